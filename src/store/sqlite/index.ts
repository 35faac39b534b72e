/** Standalone stores: metadata and logs in one SQLite file. */
import { openDatabase } from "./database.js";
import { SqliteMetadataStore } from "./metadata.js";
import { SqliteLogStore } from "./logs.js";
import type { LogStore, MetadataStore } from "../contract.js";

export interface SqliteStores {
  metadata: MetadataStore;
  logs: LogStore;
  close(): Promise<void>;
}

export function openSqliteStores(file: string): SqliteStores {
  const db = openDatabase(file);
  const logs = new SqliteLogStore(db);
  return {
    metadata: new SqliteMetadataStore(db),
    logs,
    async close() {
      await logs.flush();
      db.close();
    },
  };
}
