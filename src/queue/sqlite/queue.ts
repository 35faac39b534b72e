/**
 * AsyncEventQueue on SQLite, in its own file in the data dir (its writes never wait for the
 * metadata store's), written by its own thread (`writer.ts`): WAL + synchronous=FULL and group
 * commit, so an enqueue resolves once its transaction is on disk, a burst of enqueues shares one
 * fsync, and the server's event loop never blocks on the disk. This class is the main thread's
 * side: every call is one message to the writer and one reply.
 */
import { Worker } from "node:worker_threads";
import type { AsyncEventQueue, LaneStats, LaneSummary, LeaseRef, LeasedEvent, NewEvent, RetryChange, Settlement } from "../contract.js";
import type { QueueOp } from "./store.js";
import type { WriterError, WriterHello, WriterInit, WriterReply } from "./writer.js";

export interface SqliteQueueOptions {
  /**
   * Make every leased event visible again at this time when opening: right when this process is
   * the file's only user (standalone), so leases held by a crashed predecessor need not expire first.
   */
  releaseLeasesAt?: number;
}

/** A Buffer of its own (a pooled one would copy its whole 8 KB pool across the thread boundary). */
const own = (b: Uint8Array): Uint8Array => new Uint8Array(b);
const asBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const ownEvents = (events: readonly NewEvent[]): NewEvent[] => events.map((e) => ({ ...e, payload: own(e.payload) as Buffer }));
const ownSettlement = (s: Settlement | undefined): Settlement | undefined => (s?.followUps ? { ...s, followUps: ownEvents(s.followUps) } : s);
const leaseRef = (l: LeaseRef): LeaseRef => ({ id: l.id, lane: l.lane, receipt: l.receipt });

function toError(e: WriterError): Error {
  const err = new Error(e.message) as Error & { code?: string };
  err.name = e.name;
  if (e.code !== undefined) err.code = e.code;
  return err;
}

export class SqliteAsyncQueue implements AsyncEventQueue {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private exited: Promise<void>;
  private closed = false;

  private constructor(
    private readonly worker: Worker,
    /** Leases a predecessor left behind, made visible again at open. */
    readonly releasedAtOpen: number,
  ) {
    worker.on("message", (replies: WriterReply[]) => {
      for (const r of replies) {
        const w = this.waiting.get(r.id);
        if (!w) continue;
        this.waiting.delete(r.id);
        if (r.ok) w.resolve(r.value);
        else w.reject(toError(r.error));
      }
    });
    this.exited = new Promise((resolve) =>
      worker.once("exit", () => {
        for (const w of this.waiting.values()) w.reject(new Error("the async queue's writer thread has exited"));
        this.waiting.clear();
        resolve();
      }),
    );
    worker.on("error", () => undefined); // reported through "exit"
  }

  static async open(file: string, opts: SqliteQueueOptions = {}): Promise<SqliteAsyncQueue> {
    const init: WriterInit = { file, ...(opts.releaseLeasesAt !== undefined ? { releaseLeasesAt: opts.releaseLeasesAt } : {}) };
    const worker = new Worker(new URL("./writer.js", import.meta.url), { workerData: init });
    const listeners: Array<[string, (...a: any[]) => void]> = [];
    const hello = await new Promise<WriterHello>((resolve, reject) => {
      listeners.push(["message", resolve], ["error", reject], ["exit", (code: number) => reject(new Error(`the async queue's writer thread exited with ${code} while opening ${file}`))]);
      for (const [event, fn] of listeners) worker.once(event, fn);
    });
    // Only ours: Worker keeps listeners of its own.
    for (const [event, fn] of listeners) worker.off(event, fn);
    if (!hello.ready) {
      await worker.terminate();
      throw toError(hello.error);
    }
    return new SqliteAsyncQueue(worker, hello.released);
  }

  private call<T>(op: QueueOp | { op: "commits" } | { op: "close" }): Promise<T> {
    if (this.closed && op.op !== "close") return Promise.reject(new Error("the async queue is closed"));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, op });
    });
  }

  /** Transactions committed so far (group commit shows as fewer commits than operations). */
  commits(): Promise<number> {
    return this.call({ op: "commits" });
  }

  enqueue(events: NewEvent[]): Promise<void> {
    return this.call({ op: "enqueue", events: ownEvents(events) });
  }

  async lease(lane: string, n: number, now: number, leaseMs: number): Promise<LeasedEvent[]> {
    const got = await this.call<LeasedEvent[]>({ op: "lease", lane, n, now, leaseMs });
    for (const e of got) e.payload = asBuffer(e.payload);
    return got;
  }

  ack(l: LeaseRef, s?: Settlement): Promise<boolean> {
    return this.call({ op: "ack", lease: leaseRef(l), ...(s ? { s: ownSettlement(s)! } : {}) });
  }

  retryAt(l: LeaseRef, at: number, change: RetryChange, s?: Settlement): Promise<boolean> {
    return this.call({ op: "retryAt", lease: leaseRef(l), at, change, ...(s ? { s: ownSettlement(s)! } : {}) });
  }

  dead(l: LeaseRef, reason: string, now: number, s?: Settlement): Promise<boolean> {
    return this.call({ op: "dead", lease: leaseRef(l), reason, now, ...(s ? { s: ownSettlement(s)! } : {}) });
  }

  lanes(now: number): Promise<LaneSummary[]> {
    return this.call({ op: "lanes", now });
  }

  stats(lane: string, now: number): Promise<LaneStats> {
    return this.call({ op: "stats", lane, now });
  }

  /** Commits what was asked for, closes the database and ends the writer thread. */
  async close(): Promise<void> {
    if (this.closed) return this.exited;
    const bye = this.call<void>({ op: "close" });
    this.closed = true;
    await bye.catch(() => undefined);
    await this.exited;
  }
}

/** Opens (creating if needed) the queue file, on its writer thread. */
export function openSqliteQueue(file: string, opts: SqliteQueueOptions = {}): Promise<SqliteAsyncQueue> {
  return SqliteAsyncQueue.open(file, opts);
}
