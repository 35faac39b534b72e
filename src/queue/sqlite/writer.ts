/**
 * The queue's writer thread: owns the SQLite connection and commits whatever the main thread asked
 * for in batches (group commit). While one batch waits for its fsync, the next requests pile up in
 * the message port and form the next batch, so the main thread's event loop never waits for the
 * disk and a busier queue commits more per fsync, not more fsyncs.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import { commitBatch } from "./group-commit.js";
import { QueueStore, type QueueOp } from "./store.js";

export interface WriterInit {
  file: string;
  releaseLeasesAt?: number;
}

export type WriterRequest = { id: number; op: QueueOp } | { id: number; op: { op: "commits" } } | { id: number; op: { op: "close" } };
export interface WriterError {
  message: string;
  name: string;
  code?: string;
}
export type WriterReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WriterError };
export type WriterHello = { ready: true; released: number } | { ready: false; error: WriterError };

const port = parentPort!;
const describe = (e: unknown): WriterError => {
  const err = e as { message?: unknown; name?: unknown; code?: unknown };
  return { message: String(err?.message ?? e), name: typeof err?.name === "string" ? err.name : "Error", ...(typeof err?.code === "string" ? { code: err.code } : {}) };
};

let db: Database.Database;
let store: QueueStore;
try {
  const init = workerData as WriterInit;
  mkdirSync(dirname(init.file), { recursive: true, mode: 0o700 });
  db = new Database(init.file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.pragma("busy_timeout = 5000");
  store = new QueueStore(db);
  const released = init.releaseLeasesAt === undefined ? 0 : store.releaseLeases(init.releaseLeasesAt);
  port.postMessage({ ready: true, released } satisfies WriterHello);
} catch (e) {
  port.postMessage({ ready: false, error: describe(e) } satisfies WriterHello);
  process.exit(1);
}

let pending: Array<{ id: number; op: QueueOp }> = [];
let scheduled = false;
let commits = 0;

function flush(): void {
  scheduled = false;
  const batch = pending;
  pending = [];
  if (batch.length === 0) return;
  let replies: WriterReply[];
  try {
    const results = commitBatch(
      db,
      batch.map((r) => () => store.run(r.op)),
    );
    commits++;
    replies = results.map((res, i) => (res.ok ? { id: batch[i]!.id, ok: true, value: res.value } : { id: batch[i]!.id, ok: false, error: describe(res.error) }));
  } catch (e) {
    replies = batch.map((r) => ({ id: r.id, ok: false, error: describe(e) }));
  }
  port.postMessage(replies);
}

port.on("message", (m: WriterRequest) => {
  if (m.op.op === "commits") {
    port.postMessage([{ id: m.id, ok: true, value: commits }]);
    return;
  }
  if (m.op.op === "close") {
    flush();
    db.close();
    port.postMessage([{ id: m.id, ok: true, value: undefined }]);
    port.close();
    return;
  }
  pending.push({ id: m.id, op: m.op });
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
});
