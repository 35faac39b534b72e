/**
 * Demand signals for the capacity manager, derived from the workers' heartbeats (KV `kiln-workers`).
 * Pure.
 *
 * - Concurrency in use: the sum over workers of `busy` (environments running an invocation or
 *   being created; draining workers included: their invocations are demand too). A worker too old
 *   to send `busy` counts all its sandboxes (an overestimate).
 * - Cold starts: each worker heartbeats `environmentsCreated`, a counter since it started.
 *   CreationTally turns the per-worker counters into one fleet-wide counter that only grows:
 *   it adds each worker's increase since the last look; a worker seen for the first time adds
 *   its whole count (it created those environments since it started, recently). The manager turns
 *   the counter into a rate per minute between two ticks.
 *
 * Worked example: tick 1 sees {w1: 5} -> total 5 (the manager takes its first look as the
 * baseline); tick 2 sees {w1: 8, w2: 2} -> +3 +2 = 10; w1 leaves; tick 3 sees {w2: 4} -> 12.
 * With ticks 10 s apart: (10 - 5) * 6 = 30 per minute, then 12 per minute.
 *
 * Known caveats: heartbeats are 1 s old at most, so is the busy count, and it is sampled once
 * per tick (a burst between two ticks is seen only through the environments it created);
 * "created" counts every environment placed on a worker, pre-initialized (pooled) ones included,
 * because each one is a cold start from assignment's point of view. Ids of workers gone are kept
 * (a few bytes each) so one whose heartbeat lapses and returns does not count its history twice.
 */
import type { WorkerRecord } from "../workers/index.js";

/** Invocations in flight (or environments being created) across the fleet. */
export function concurrencyInUse(records: readonly WorkerRecord[]): number {
  return records.reduce((n, r) => n + (r.busy ?? r.runningSandboxes), 0);
}

/** A fleet-wide, monotonically increasing count of environments created, from per-worker counters. */
export class CreationTally {
  private readonly last = new Map<string, number>();
  private sum = 0;

  /** Adds what each worker created since the last look; returns the running total. */
  observe(records: readonly WorkerRecord[]): number {
    for (const r of records) {
      const now = r.environmentsCreated;
      if (now === undefined) continue;
      const before = this.last.get(r.id) ?? 0;
      if (now > before) this.sum += now - before;
      this.last.set(r.id, now);
    }
    return this.sum;
  }

  get total(): number {
    return this.sum;
  }
}
