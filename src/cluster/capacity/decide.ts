/**
 * Capacity decisions: how many worker nodes to add, or which to remove, from demand signals.
 * Pure; CapacityManager (manager.ts) gathers the signals and asks a CapacityProvider to act.
 *
 * Algorithm (in order):
 *   1. Bounds: fewer than `minWorkers` (active + pending) -> add the difference; more than
 *      `maxWorkers` active -> remove the least loaded. Bounds ignore the cool-down.
 *   2. Pending: workers asked for but not yet in the directory -> hold (they are the answer).
 *   3. Cool-down: within `coolDownMs` of the last add/remove -> hold.
 *   4. Pressure: utilization = concurrency in use / slots, where slots = active total memory /
 *      `slotMemoryMB`. Add when utilization > `scaleUpUtilization`, or the free memory fraction <
 *      `minFreeMemoryFraction`, or cold starts per worker per minute > `maxColdStartsPerWorkerMinute`
 *      (sandboxes churn: more room keeps more of them warm). The count brings utilization back to
 *      the target (ceil(n * u / up) - n), at least 1, at most `maxStep`, never past `maxWorkers`.
 *   5. Slack: utilization < `scaleDownUtilization`, free memory plentiful, cold starts quiet, more
 *      than `minWorkers`, and the fleet without the candidate would still sit below the middle of
 *      the band -> remove one worker: fewest sandboxes, then most free memory, then the oldest
 *      (its lease ends first), then the lowest id. One at a time: each removal drains.
 *   6. Otherwise hold.
 *
 * Worked example (slot 256 MB, up 0.7, down 0.3, min 1, max 10): 3 active workers of 4096 MB =
 * 48 slots; 40 invocations in flight -> u = 0.83 > 0.7 -> add ceil(3 * 0.83 / 0.7) - 3 = 1 (4 -> 64
 * slots, u = 0.63). Later 6 in flight on 4 workers: u = 0.09 < 0.3; without the emptiest worker
 * 48 slots, u = 0.13 < 0.5 -> remove it; a minute later (cool-down) the next one, down to 1.
 *
 * Known caveats: "concurrency in use" is what the caller feeds (in-flight invocations; the
 * directory alone only knows sandboxes, idle ones included, which overstates demand); slots
 * assume one sandbox size; a removal only takes effect after the worker drains (up to 15 min),
 * during which it is not counted as capacity; the cold-start rate is fleet-wide, not per function.
 */

export interface CapacityWorker {
  id: string;
  state: "active" | "draining";
  totalMemoryMB: number;
  freeMemoryMB: number;
  runningSandboxes: number;
  startedAt: number;
}

export interface CapacitySignals {
  now: number;
  /** Live workers (the directory). */
  workers: readonly CapacityWorker[];
  /** Workers asked for (provider) and not yet in the directory. */
  pending: number;
  /** Invocations in flight across the fleet. */
  concurrencyInUse: number;
  /** Cold starts per minute across the fleet. */
  coldStartsPerMinute: number;
  /** When capacity was last added or removed. */
  lastChangeAt?: number;
}

export interface CapacityPolicy {
  minWorkers: number;
  maxWorkers: number;
  /** The memory of one concurrency slot (one sandbox). */
  slotMemoryMB: number;
  scaleUpUtilization: number;
  scaleDownUtilization: number;
  minFreeMemoryFraction: number;
  maxColdStartsPerWorkerMinute: number;
  coolDownMs: number;
  /** At most this many workers added at once. */
  maxStep: number;
}

export const DEFAULT_CAPACITY_POLICY: CapacityPolicy = {
  minWorkers: 1,
  maxWorkers: 10,
  slotMemoryMB: 256,
  scaleUpUtilization: 0.7,
  scaleDownUtilization: 0.3,
  minFreeMemoryFraction: 0.15,
  maxColdStartsPerWorkerMinute: 60,
  coolDownMs: 60_000,
  maxStep: 2,
};

export type CapacityDecision = { add: number; reason: string } | { remove: string[]; reason: string } | { hold: true; reason: string };

/** Least loaded first: fewest sandboxes, most free memory, oldest, lowest id. */
function byLeastLoaded(a: CapacityWorker, b: CapacityWorker): number {
  return a.runningSandboxes - b.runningSandboxes || b.freeMemoryMB - a.freeMemoryMB || a.startedAt - b.startedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export function decide(s: CapacitySignals, p: CapacityPolicy): CapacityDecision {
  const active = s.workers.filter((w) => w.state === "active");
  const n = active.length;
  if (n + s.pending < p.minWorkers) return { add: p.minWorkers - n - s.pending, reason: `below the minimum of ${p.minWorkers} workers` };
  if (n > p.maxWorkers) return { remove: [...active].sort(byLeastLoaded).slice(0, n - p.maxWorkers).map((w) => w.id), reason: `above the maximum of ${p.maxWorkers} workers` };
  if (s.pending > 0) return { hold: true, reason: `waiting for ${s.pending} requested worker(s) to join` };
  if (s.lastChangeAt !== undefined && s.now - s.lastChangeAt < p.coolDownMs) return { hold: true, reason: "cool-down" };

  const total = active.reduce((a, w) => a + w.totalMemoryMB, 0);
  const free = active.reduce((a, w) => a + w.freeMemoryMB, 0);
  const slots = total / p.slotMemoryMB;
  const utilization = slots > 0 ? s.concurrencyInUse / slots : s.concurrencyInUse > 0 ? Infinity : 0;
  const freeFraction = total > 0 ? free / total : 0;
  const coldPerWorker = s.coldStartsPerMinute / Math.max(1, n);
  const figures = `utilization ${utilization.toFixed(2)}, free memory ${(freeFraction * 100).toFixed(0)}%, ${coldPerWorker.toFixed(1)} cold starts/worker/min`;

  const pressure = utilization > p.scaleUpUtilization || freeFraction < p.minFreeMemoryFraction || coldPerWorker > p.maxColdStartsPerWorkerMinute;
  if (pressure) {
    if (n >= p.maxWorkers) return { hold: true, reason: `under pressure (${figures}) but at the maximum of ${p.maxWorkers} workers` };
    const toTarget = Number.isFinite(utilization) && utilization > p.scaleUpUtilization ? Math.ceil((n * utilization) / p.scaleUpUtilization) - n : 1;
    return { add: Math.min(Math.max(1, toTarget), p.maxStep, p.maxWorkers - n), reason: `under pressure: ${figures}` };
  }

  const quiet = utilization < p.scaleDownUtilization && freeFraction > p.minFreeMemoryFraction * 2 && coldPerWorker <= p.maxColdStartsPerWorkerMinute / 4;
  if (quiet && n > p.minWorkers) {
    const candidate = [...active].sort(byLeastLoaded)[0]!;
    const slotsAfter = (total - candidate.totalMemoryMB) / p.slotMemoryMB;
    const after = slotsAfter > 0 ? s.concurrencyInUse / slotsAfter : Infinity;
    if (after < (p.scaleUpUtilization + p.scaleDownUtilization) / 2) return { remove: [candidate.id], reason: `slack: ${figures}` };
  }
  return { hold: true, reason: figures };
}
