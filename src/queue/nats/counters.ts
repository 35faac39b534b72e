/**
 * Lane counters and recent drops in the KV bucket, changed with compare-and-set loops: read the
 * value and its revision, write the new value conditioned on that revision, and on a conflict
 * (another process wrote first) read again. Within one process, increments of the same lane are
 * coalesced: while one write is in flight the next ones add up and go in one write, so a burst of
 * 300 enqueues costs a handful of KV writes, not 300 serialized ones.
 */
import type { KV } from "@nats-io/kv";
import { COUNTERS, zeroCounters, type CounterName, type DroppedEvent, type LaneCounters } from "../contract.js";
import { counterKey, dropsKey } from "./names.js";

/** How many drops each lane remembers; stats show the newest RECENT_DROPS_SHOWN. */
export const RECENT_DROPS_KEPT = 100;
export const RECENT_DROPS_SHOWN = 10;
const CAS_ATTEMPTS = 50;

/** Applies `change` to the JSON value at `key` with compare-and-set, retrying on conflicts. */
export async function casUpdate<T>(kv: KV, key: string, empty: () => T, change: (v: T) => T): Promise<void> {
  for (let i = 0; i < CAS_ATTEMPTS; i++) {
    const cur = await kv.get(key);
    const live = cur !== null && cur.operation === "PUT";
    const next = JSON.stringify(change(live ? (cur.json() as T) : empty()));
    try {
      if (cur === null) await kv.create(key, next);
      else await kv.update(key, next, cur.revision);
      return;
    } catch (err) {
      if (!isConflict(err)) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 5 * (i + 1)));
    }
  }
  throw new Error(`could not update ${key}: too many concurrent writers`);
}

function isConflict(err: unknown): boolean {
  const m = String((err as Error)?.message ?? err);
  return /wrong last sequence|key exists|10071|10164/.test(m);
}

export function readCounters(raw: unknown): LaneCounters {
  const c = zeroCounters();
  if (raw && typeof raw === "object") for (const n of COUNTERS) if (typeof (raw as Record<string, unknown>)[n] === "number") c[n] = (raw as Record<string, number>)[n]!;
  return c;
}

type Delta = Partial<Record<CounterName, number>>;

export class LaneCounterWriter {
  private readonly pending = new Map<string, { delta: Delta; waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> }>();
  private readonly running = new Set<string>();

  constructor(private readonly kv: KV) {}

  /** Adds to a lane's counters; resolves once the increment is stored. */
  add(lane: string, delta: Delta): Promise<void> {
    const entries = Object.entries(delta).filter(([, n]) => n !== 0 && n !== undefined) as Array<[CounterName, number]>;
    if (entries.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let p = this.pending.get(lane);
      if (!p) this.pending.set(lane, (p = { delta: {}, waiters: [] }));
      for (const [k, n] of entries) p.delta[k] = (p.delta[k] ?? 0) + n;
      p.waiters.push({ resolve, reject });
      if (!this.running.has(lane)) void this.flush(lane);
    });
  }

  private async flush(lane: string): Promise<void> {
    this.running.add(lane);
    try {
      for (let p = this.pending.get(lane); p; p = this.pending.get(lane)) {
        this.pending.delete(lane);
        try {
          await casUpdate(this.kv, counterKey(lane), zeroCounters, (v) => {
            const c = readCounters(v);
            for (const [k, n] of Object.entries(p!.delta) as Array<[CounterName, number]>) c[k] += n;
            return c;
          });
          for (const w of p.waiters) w.resolve();
        } catch (err) {
          for (const w of p.waiters) w.reject(err);
        }
      }
    } finally {
      this.running.delete(lane);
    }
  }
}

/** Records a drop at the head of the lane's bounded list. */
export function pushDrop(kv: KV, lane: string, d: DroppedEvent): Promise<void> {
  return casUpdate<DroppedEvent[]>(kv, dropsKey(lane), () => [], (list) => [d, ...(Array.isArray(list) ? list : [])].slice(0, RECENT_DROPS_KEPT));
}
