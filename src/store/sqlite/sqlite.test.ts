import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { metadataStoreSuite } from "../store.case.js";
import { logStoreSuite } from "../logs.case.js";
import { openSqliteStores, type SqliteStores } from "./index.js";

metadataStoreSuite("sqlite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kiln-store-"));
  const file = join(dir, "kiln.db");
  const opened: SqliteStores[] = [openSqliteStores(file)];
  return {
    store: opened[0]!.metadata,
    reopen: async () => {
      await opened[0]!.close();
      const s = openSqliteStores(file);
      opened.push(s);
      return s.metadata;
    },
    close: async () => {
      for (const s of opened.slice(opened.length > 1 ? 1 : 0)) await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

logStoreSuite("sqlite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kiln-logs-"));
  const stores = openSqliteStores(join(dir, "kiln.db"));
  return {
    logs: stores.logs,
    close: async () => {
      await stores.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
