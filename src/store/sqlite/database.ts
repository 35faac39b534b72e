/** Opens the standalone SQLite file with the settings that make crashes harmless (WAL, synchronous=FULL). */
import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";

export type SqliteDatabase = Database.Database;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS documents (
  collection TEXT NOT NULL,
  key        TEXT NOT NULL,
  value      TEXT NOT NULL,
  revision   INTEGER NOT NULL,
  PRIMARY KEY (collection, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS log_events (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id TEXT NOT NULL,
  log_group  TEXT NOT NULL,
  log_stream TEXT NOT NULL,
  timestamp  INTEGER NOT NULL,
  ingested   INTEGER NOT NULL,
  message    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS log_events_group ON log_events (account_id, log_group, timestamp, id);
`;

export function openDatabase(file: string): SqliteDatabase {
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.pragma("busy_timeout = 5000");
  db.exec(SCHEMA);
  return db;
}
