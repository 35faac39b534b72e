/**
 * How many pre-initialized sandboxes to keep, per kind (a runtime, or the SnapStart launcher) and
 * memory size. Pure: the pool calls it with the cold starts it saw and the memory it may use, and
 * boots or trims to the answer.
 *
 * A pool class is (kind, memory size): Node's heap cap (--max-old-space-size) is fixed when the
 * process starts and the memory cgroup is created with the sandbox, so a pooled sandbox is booted
 * for one memory size and gives exactly a fresh spawn's limits. ("Runtime" below means kind.)
 *
 * Algorithm:
 *   1. Demand of a class = its burst rate: the most cold starts that fell within any one `burstMs`
 *      interval during the last `windowMs` (a sliding window over sorted start times). Hits and
 *      misses both count: they are the cold starts the pool should have served.
 *   2. Floor: each runtime keeps `min` sandboxes of its busiest class (most cold starts in the
 *      window; ties: higher demand, later last start, smaller memory), or of `defaultMemoryMB`
 *      when it had none; `floorless` kinds have no floor. A class wants max(demand, floor).
 *   3. Ceiling: per runtime, classes are served in order of want (then smaller memory) until the
 *      runtime's total reaches `max`. `max` = 0 disables the pool.
 *   4. Memory: every pooled sandbox may grow to its memory size once specialized, so the targets
 *      must fit in `freeMemoryMB - reserveMB`. Sandboxes are admitted round-robin (every class's
 *      1st before any class's 2nd, ...; within a round by want, then smaller memory), skipping
 *      those that no longer fit. Memory pressure wins over the floor.
 *
 * Worked example (min 1, max 8, window 60 s, burst 1 s, reserve 512 MB, default 128 MB):
 *   nodejs20.x cold starts at 128 MB at t = 0.0, 0.2, 0.3, 0.9, 1.5, 30 s and one at 512 MB at
 *   t = 10 s; python3.11 none; now t = 40 s.
 *   - demand: node/128 = 4 (0.0..0.9 s), node/512 = 1. Floor: node's busiest class is 128 (6 starts);
 *     python has none, so python/128 gets the floor. Wants: node/128 4, node/512 1, python/128 1.
 *   - ceiling 8 per runtime: node 4 + 1 = 5, python 1: unchanged.
 *   - free 4096 MB: budget 3584 MB, all 1,152 MB fit -> node/128: 4, node/512: 1, python/128: 1.
 *   - free 1000 MB instead: budget 488 MB; round 1 admits node/128 (128), python/128 (256), skips
 *     node/512 (768 > 488); round 2 admits node/128 (384); rounds 3-4 do not fit ->
 *     node/128: 2, python/128: 1, node/512: 0.
 *   - at t = 100 s nothing is in the window: node/128 1 and python/128 1 (the floors); node/512 0.
 *
 * Known caveats: demand reacts within one cold start and decays only when the window passes, so a
 * single burst keeps its pool for `windowMs`; it does not predict (a steady stream of N cold starts
 * per second keeps about N pooled, enough when a refill takes under a second). Every pooled
 * sandbox is charged its full memory size although an idle one uses ~10-45 MB: conservative.
 */
import type { PoolKind } from "./eligibility.js";

export interface PoolSizingConfig {
  /** Pooled sandboxes each runtime keeps without demand (0: only on demand). */
  min: number;
  /** Most pooled sandboxes (idle + booting) per runtime; 0 disables the pool. */
  max: number;
  /** How far back cold starts count. */
  windowMs: number;
  /** Demand is the most cold starts of a class within any interval this long. */
  burstMs: number;
  /** Memory the pool leaves to everything else. */
  reserveMB: number;
  /** Where a runtime's floor goes when it had no cold start in the window (Lambda's default memory size). */
  defaultMemoryMB: number;
}

export const DEFAULT_POOL_WINDOW_MS = 60_000;
export const DEFAULT_POOL_BURST_MS = 1_000;
export const DEFAULT_POOL_RESERVE_MB = 512;

export interface ColdStart {
  at: number;
  kind: PoolKind;
  memoryMB: number;
}

export interface PoolTarget {
  kind: PoolKind;
  memoryMB: number;
  target: number;
}

export interface SizingInput {
  now: number;
  coldStarts: readonly ColdStart[];
  /** Memory that sandboxes may still use on this host (worker capacity and the kernel's MemAvailable, whichever is less). */
  freeMemoryMB: number;
  /** The kinds to size (a runtime, or "snapstart"). */
  kinds: readonly PoolKind[];
  /** Kinds kept only on demand, without the floor (the SnapStart launcher: most servers have no SnapStart function). */
  floorless?: readonly PoolKind[];
}

interface ClassState {
  kind: PoolKind;
  memoryMB: number;
  starts: number[];
  demand: number;
  want: number;
  target: number;
}

/** The most values of sorted `times` within any half-open interval of length `burstMs`. */
export function burstDemand(times: readonly number[], burstMs: number): number {
  let best = 0;
  for (let lo = 0, hi = 0; hi < times.length; hi++) {
    while (times[hi]! - times[lo]! >= burstMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

const byWantThenMemory = (a: ClassState, b: ClassState): number => b.want - a.want || a.memoryMB - b.memoryMB;

export function poolTargets(input: SizingInput, config: PoolSizingConfig): PoolTarget[] {
  if (config.max <= 0) return [];
  const classes = new Map<string, ClassState>();
  const classOf = (kind: PoolKind, memoryMB: number): ClassState => {
    const key = `${kind}/${memoryMB}`;
    let c = classes.get(key);
    if (!c) classes.set(key, (c = { kind, memoryMB, starts: [], demand: 0, want: 0, target: 0 }));
    return c;
  };
  for (const cs of input.coldStarts) {
    if (input.now - cs.at < config.windowMs && cs.at <= input.now && input.kinds.includes(cs.kind)) classOf(cs.kind, cs.memoryMB).starts.push(cs.at);
  }
  for (const c of classes.values()) {
    c.starts.sort((a, b) => a - b);
    c.demand = c.want = burstDemand(c.starts, config.burstMs);
  }
  for (const kind of input.kinds) {
    const own = [...classes.values()].filter((c) => c.kind === kind);
    if (config.min > 0 && !input.floorless?.includes(kind)) {
      const busiest = own.sort((a, b) => b.starts.length - a.starts.length || b.demand - a.demand || b.starts.at(-1)! - a.starts.at(-1)! || a.memoryMB - b.memoryMB)[0];
      const floorClass = busiest ?? classOf(kind, config.defaultMemoryMB);
      floorClass.want = Math.max(floorClass.want, config.min);
    }
    let left = config.max;
    for (const c of [...classes.values()].filter((x) => x.kind === kind).sort(byWantThenMemory)) {
      c.target = Math.min(c.want, left);
      left -= c.target;
    }
  }
  const admitted = new Map<ClassState, number>();
  let budget = input.freeMemoryMB - config.reserveMB;
  const ordered = [...classes.values()].sort(byWantThenMemory);
  const rounds = Math.max(0, ...ordered.map((c) => c.target));
  for (let round = 0; round < rounds; round++) {
    for (const c of ordered) {
      if (c.target <= round || c.memoryMB > budget) continue;
      budget -= c.memoryMB;
      admitted.set(c, (admitted.get(c) ?? 0) + 1);
    }
  }
  return ordered.map((c) => ({ kind: c.kind, memoryMB: c.memoryMB, target: admitted.get(c) ?? 0 }));
}
