/**
 * Blast radius of shuffle sharding: how many other functions a misbehaving function (a poison pill
 * that crashes or saturates the workers it runs on) can hurt through its shard. Pure.
 *
 * Algorithm: with n workers and shards of k drawn by rendezvous hashing (as good as uniformly at
 * random among the C(n, k) subsets), another function's shard
 *   - equals this one's (full overlap: it loses every home worker) with probability 1 / C(n, k);
 *   - shares at least one worker with probability 1 - C(n - k, k) / C(n, k) (the complement of
 *     drawing all k of its workers among the n - k outside this shard).
 * `measureBlastRadius` counts both fractions for actual function keys and worker ids;
 * `expectedBlastRadius` gives the closed forms.
 *
 * Worked example: n = 8, k = 2: full overlap 1 / 28 = 3.57%, any overlap 1 - C(6, 2) / 28 =
 * 1 - 15/28 = 46.4%; n = 100, k = 4: full 1 / 3,921,225, any 1 - C(96, 4) / C(100, 4) = 15.3%.
 *
 * Known caveats: full overlap is what shuffle sharding bounds; partial overlap still costs the other
 * function part of its shard (and the spill, place.ts, widens a full shard's reach to k + s
 * workers, not counted here). The measured fractions of very rare events (1 / C(100, 4)) are 0 in
 * any practical sample.
 */
import { shardOf } from "./shard.js";

export interface BlastRadius {
  /** Fraction of other functions whose shard is exactly this function's. */
  fullOverlap: number;
  /** Fraction of other functions whose shard shares at least one worker with this function's. */
  anyOverlap: number;
}

/** C(n, k), exact for the sizes here (the product is built so intermediate values stay integers). */
export function binomial(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  const r = Math.min(k, n - k);
  let c = 1;
  for (let i = 1; i <= r; i++) c = (c * (n - r + i)) / i;
  return Math.round(c);
}

export function expectedBlastRadius(n: number, k: number): BlastRadius {
  const all = binomial(n, k);
  if (all === 0) return { fullOverlap: 0, anyOverlap: 0 };
  return { fullOverlap: 1 / all, anyOverlap: 1 - binomial(n - k, k) / all };
}

/** The fractions among `others` (this function's own key excluded) over shards of k of `workerIds`. */
export function measureBlastRadius(functionKey: string, others: readonly string[], workerIds: readonly string[], k: number): BlastRadius & { others: number } {
  const mine = new Set(shardOf(functionKey, workerIds, k));
  let full = 0;
  let any = 0;
  let counted = 0;
  for (const other of others) {
    if (other === functionKey) continue;
    counted++;
    const theirs = shardOf(other, workerIds, k);
    const shared = theirs.filter((w) => mine.has(w)).length;
    if (shared > 0) any++;
    if (shared === mine.size && theirs.length === mine.size) full++;
  }
  return counted === 0 ? { fullOverlap: 0, anyOverlap: 0, others: 0 } : { fullOverlap: full / counted, anyOverlap: any / counted, others: counted };
}
