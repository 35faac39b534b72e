/**
 * WorkerDirectory: every node's in-memory map of live workers, fed by watching KV `kiln-workers`.
 *
 * Algorithm: a PUT of a well-formed record joins (or refreshes) the worker and stamps when it was
 * last heard by this node's clock; a DEL/PURGE (a worker deregistering) is an immediate leave; a
 * sweep every `sweepMs` expires workers not heard for `ttlMs` (default 4 s = four missed
 * heartbeats). On start, the bucket's current values are read once; for those, "last heard" is the
 * record's own seenAt (capped at now), so records of workers that died while no one watched expire
 * promptly instead of living for another TTL.
 *
 * Worked example (ttl 4 s): w1 beats at t=0,1,2; it is kill -9'd at 2.5; at the sweep after t=6
 * it is 4+ s unheard -> onLeave("w1"), and loads() no longer lists it. w2 stops cleanly at t=3 ->
 * kv.delete -> onLeave("w2") at once.
 *
 * Known caveats: nats-server 2.9 does not notify watchers when KV max-age removes a key, hence the
 * sweep; records read at start compare the sender's seenAt with this node's clock, so skew beyond
 * the TTL delays or hastens those first expiries (live updates use only the local clock).
 */
import type { KV, KvEntry } from "@nats-io/kv";
import type { Clock, Logger } from "../../base/index.js";
import { loadOf, parseWorkerRecord, type ClusterWorkerLoad, type WorkerRecord } from "./record.js";

export const DEFAULT_DIRECTORY_TTL_MS = 4_000;

/** Pure: the workers last heard more than `ttlMs` before `now`. */
export function expiredWorkers(lastHeard: ReadonlyMap<string, number>, now: number, ttlMs: number): string[] {
  return [...lastHeard.entries()].filter(([, at]) => now - at > ttlMs).map(([id]) => id);
}

export interface WorkerDirectoryOptions {
  kv: KV;
  clock: Clock;
  log: Logger;
  ttlMs?: number;
  /** How often to look for expired workers (default ttl / 8). */
  sweepMs?: number;
}

export class WorkerDirectory {
  private readonly records = new Map<string, WorkerRecord>();
  private readonly lastHeard = new Map<string, number>();
  private readonly joinListeners: Array<(id: string) => void> = [];
  private readonly leaveListeners: Array<(id: string) => void> = [];
  private watcher: { stop(): void } | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly ttlMs: number;

  constructor(private readonly opts: WorkerDirectoryOptions) {
    this.ttlMs = opts.ttlMs ?? DEFAULT_DIRECTORY_TTL_MS;
  }

  onJoin(listener: (workerId: string) => void): void {
    this.joinListeners.push(listener);
  }

  onLeave(listener: (workerId: string) => void): void {
    this.leaveListeners.push(listener);
  }

  async start(): Promise<void> {
    const iter = await this.opts.kv.watch({ include: "updates" });
    this.watcher = iter;
    void (async () => {
      for await (const e of iter) this.apply(e, true);
    })().catch((e) => this.opts.log.warn("the worker directory's watch ended", { error: String(e) }));
    for await (const key of await this.opts.kv.keys()) {
      if (this.records.has(key)) continue;
      const e = await this.opts.kv.get(key);
      if (e && !this.records.has(key)) this.apply(e, false);
    }
    this.sweeper = setInterval(() => this.sweep(), this.opts.sweepMs ?? Math.max(100, this.ttlMs / 8));
    this.sweeper.unref?.();
  }

  stop(): void {
    this.watcher?.stop();
    if (this.sweeper) clearInterval(this.sweeper);
  }

  private apply(e: KvEntry, live: boolean): void {
    if (e.operation !== "PUT") {
      this.leave(e.key);
      return;
    }
    let record: WorkerRecord | undefined;
    try {
      record = parseWorkerRecord(e.json());
    } catch {
      record = undefined;
    }
    if (!record || record.id !== e.key) {
      this.opts.log.warn("ignoring a malformed worker heartbeat", { key: e.key });
      return;
    }
    const now = this.opts.clock.now();
    const heard = live ? now : Math.min(now, record.seenAt);
    if (!live && now - heard > this.ttlMs) return;
    const known = this.records.has(record.id);
    this.records.set(record.id, record);
    this.lastHeard.set(record.id, heard);
    if (!known) for (const l of this.joinListeners) l(record.id);
  }

  private leave(id: string): void {
    if (!this.records.delete(id)) return;
    this.lastHeard.delete(id);
    for (const l of this.leaveListeners) l(id);
  }

  /** Expires workers not heard for the TTL (runs on a timer; tests call it after moving the clock). */
  sweep(): void {
    for (const id of expiredWorkers(this.lastHeard, this.opts.clock.now(), this.ttlMs)) {
      this.opts.log.info("worker heartbeat expired", { worker: id });
      this.leave(id);
    }
  }

  get(workerId: string): WorkerRecord | undefined {
    return this.records.get(workerId);
  }

  urlOf(workerId: string): string | undefined {
    return this.records.get(workerId)?.url;
  }

  list(): WorkerRecord[] {
    return [...this.records.values()];
  }

  loads(): ClusterWorkerLoad[] {
    return this.list().map(loadOf);
  }
}
