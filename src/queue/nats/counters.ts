/**
 * Lane counters and recent drops in the KV bucket, each key with exactly one writer: every queue
 * instance (one `NatsAsyncQueue`, i.e. one process) owns its own records, `c.<lane token>.<instance>`
 * (counters) and `d.<lane token>.<instance>` (its newest drops), and readers sum them.
 *
 * Why not one shared key per lane changed by compare-and-set: on a replicated bucket, nats-server
 * 2.9.10 does not serialize conditional writes (nats-io/nats-server#4320, fixed in 2.9.21 by
 * PR #4319: the expected-last-subject-sequence check is a pre-check on the stream leader, outside
 * Raft, so concurrent writes carrying the same expected revision can all pass it). Measured here
 * (`node dist/bench/nats-kv-cas.js`, 3-node cluster, replicas 3, one connection per node):
 * - `kv.update(key, v, rev)`: two writers doing 400 read-increment-update loops each (retrying on
 *   10071 "wrong last sequence"): 800 updates succeeded, the stored value was 731 and 732 in two
 *   runs (68-69 increments lost, 8.5%), every success with its own revision; three writers
 *   updating from the same revision at once: 300 rounds, 113 and 91 with 2 or 3 winners;
 * - `kv.create(key)` of a key that never existed (expected subject sequence 0): 1,600 rounds of
 *   3 concurrent creates, always exactly one winner;
 * - `kv.create(key)` of a deleted key (the client turns it into an update from the delete
 *   marker's revision): 300 rounds, 109 and 90 with 2 or 3 winners;
 * - a publish with a stream-level `Nats-Expected-Last-Sequence`: 600 rounds, always one winner;
 * - on a single server (replicas 1) none of the above ever has two winners (800 of 800 kept).
 * So nothing that relies on KV compare-and-set for mutual exclusion (leader leases, metadata CAS) is
 * safe on this server version with replicas > 1, except create of a never-written key.
 *
 * Algorithm: the instance keeps each of its records in memory and stores the whole value with a
 * plain put (no read, no condition: nobody else writes the key). Changes to one key are
 * serialized and coalesced: while one put is in flight the next changes pile up and go in the
 * next put, so a burst of 300 enqueues costs a handful of writes. A put that fails rejects the
 * changes waiting on it, but they stay in memory and are stored by the next put (tried again
 * after `RESTORE_AFTER_MS` if no other change comes): a put is idempotent, so a put that timed out
 * yet was applied counts nothing twice. Reads (`stats`) list the lane's keys, sum the counters and
 * merge the drop lists, newest first.
 *
 * Worked example: pollers P1 (instance a1) and P2 (b2) each enqueue 2 events of lane L (token t)
 * at the same moment: P1 puts c.t.a1 = {received 2}, P2 puts c.t.b2 = {received 2}, no conflict
 * possible; stats(L) reads both, received = 4. P1 drops event e: d.t.a1 = [e]; P2 drops f later:
 * d.t.b2 = [f]; stats shows [f, e].
 *
 * Caveats: a new instance id per open, so the keys grow with the number of queue instances that
 * ever touched a lane (a few per process start); a reader's cost grows with them. Nothing folds
 * the records of gone instances yet (that would need a safe CAS or a single compacting leader).
 * Counts are exact as long as every instance's last put is stored; changes of an instance that
 * dies before its put is stored are lost (as they would be with a shared key).
 */
import type { KV } from "@nats-io/kv";
import { COUNTERS, zeroCounters, type CounterName, type DroppedEvent, type LaneCounters } from "../contract.js";

/** How many drops each instance remembers per lane; stats show the newest RECENT_DROPS_SHOWN overall. */
export const RECENT_DROPS_KEPT = 100;
export const RECENT_DROPS_SHOWN = 10;
/** When a put failed and no new change came, the record is stored again after this long. */
export const RESTORE_AFTER_MS = 1000;

export type CounterDelta = Partial<Record<CounterName, number>>;

// ---- pure: the values and how readers combine them ----

export function readCounters(raw: unknown): LaneCounters {
  const c = zeroCounters();
  if (raw && typeof raw === "object") for (const n of COUNTERS) if (typeof (raw as Record<string, unknown>)[n] === "number") c[n] = (raw as Record<string, number>)[n]!;
  return c;
}

export function addCounters(c: LaneCounters, delta: CounterDelta): LaneCounters {
  const out = { ...c };
  for (const [k, n] of Object.entries(delta) as Array<[CounterName, number | undefined]>) if (n) out[k] += n;
  return out;
}

/** The lane's counters: the sum of every instance's record. */
export function sumCounters(records: unknown[]): LaneCounters {
  return records.reduce<LaneCounters>((sum, r) => addCounters(sum, readCounters(r)), zeroCounters());
}

/** One instance's drop list after dropping `d`: newest first, bounded. */
export function withDrop(list: DroppedEvent[], d: DroppedEvent): DroppedEvent[] {
  return [d, ...list].slice(0, RECENT_DROPS_KEPT);
}

/** The newest `n` drops of all instances' lists, newest first. */
export function newestDrops(lists: unknown[], n = RECENT_DROPS_SHOWN): DroppedEvent[] {
  const all = lists.flatMap((l) => (Array.isArray(l) ? (l as DroppedEvent[]) : []));
  return all.sort((a, b) => b.droppedAt - a.droppedAt).slice(0, n);
}

// ---- I/O: the records this instance owns ----

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** KV records written by this instance only: kept in memory, stored whole, changes coalesced per key. */
export class OwnedRecords {
  private readonly values = new Map<string, unknown>();
  private readonly waiting = new Map<string, Waiter[]>();
  private readonly dirty = new Set<string>();
  private readonly running = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly kv: Pick<KV, "put">,
    private readonly restoreAfterMs = RESTORE_AFTER_MS,
  ) {}

  /** Changes the record at `key` (starting from `empty()`); resolves once a put holding the change is stored. */
  change<T>(key: string, empty: () => T, f: (v: T) => T): Promise<void> {
    this.values.set(key, f(this.values.has(key) ? (this.values.get(key) as T) : empty()));
    this.dirty.add(key);
    return new Promise((resolve, reject) => {
      const w = this.waiting.get(key) ?? [];
      w.push({ resolve, reject });
      this.waiting.set(key, w);
      void this.store(key);
    });
  }

  /** Stops storing again after failures (the changes not stored yet are given up). */
  close(): void {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private async store(key: string): Promise<void> {
    if (this.running.has(key)) return; // the running loop picks the change up
    this.running.add(key);
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    try {
      while (this.dirty.has(key)) {
        this.dirty.delete(key);
        const waiters = this.waiting.get(key) ?? [];
        this.waiting.delete(key);
        try {
          await this.kv.put(key, JSON.stringify(this.values.get(key)));
          for (const w of waiters) w.resolve();
        } catch (err) {
          this.dirty.add(key);
          for (const w of waiters) w.reject(err);
          if (!this.closed && !this.waiting.has(key)) this.timers.set(key, setTimeout(() => void this.store(key), this.restoreAfterMs).unref());
          if (!this.waiting.has(key)) return; // nobody waits: try again later, not in a tight loop
        }
      }
    } finally {
      this.running.delete(key);
    }
  }
}
