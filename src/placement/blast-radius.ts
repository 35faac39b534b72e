/**
 * Blast radius of shuffle sharding: how many other functions a misbehaving function (a poison pill
 * that crashes or saturates the workers it runs on) can hurt through its shard. Pure.
 *
 * Algorithm: with n workers and shards of k drawn by rendezvous hashing (as good as uniformly at
 * random among the C(n, k) subsets), another function's shard
 *   - equals this one's (full overlap: it loses every home worker) with probability 1 / C(n, k);
 *   - shares at least one worker with probability 1 - C(n - k, k) / C(n, k) (the complement of
 *     drawing all k of its workers among the n - k outside this shard).
 * `measureBlastRadius` counts both fractions for one function against actual other keys and worker
 * ids; `fleetBlastRadius` averages them over every function of a set (all ordered pairs: exact
 * shards are grouped; "at least one worker" is counted by inclusion-exclusion over the 2^k - 1
 * non-empty subsets of each shard, O(F·2^k) instead of O(F²)); `expectedBlastRadius` gives the
 * closed forms.
 *
 * Worked example: n = 8, k = 2: full overlap 1 / 28 = 3.57%, any overlap 1 - C(6, 2) / 28 =
 * 1 - 15/28 = 46.4%; n = 100, k = 4: full 1 / 3,921,225, any 1 - C(96, 4) / C(100, 4) = 15.3%.
 *
 * Known caveats: full overlap is what shuffle sharding bounds; partial overlap still costs the other
 * function part of its shard (and the spill, place.ts, widens a full shard's reach to k + s
 * workers, not counted here). The measured fractions of very rare events (1 / C(100, 4)) are 0 in
 * any practical sample.
 */
import { shardsOf } from "./shard.js";

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
  const rest = others.filter((o) => o !== functionKey);
  if (rest.length === 0) return { fullOverlap: 0, anyOverlap: 0, others: 0 };
  const [mineList, ...theirs] = shardsOf([functionKey, ...rest], workerIds, k);
  const mine = new Set(mineList);
  let full = 0;
  let any = 0;
  for (const shard of theirs) {
    const shared = shard.filter((w) => mine.has(w)).length;
    if (shared > 0) any++;
    if (shared === mine.size && shard.length === mine.size) full++;
  }
  return { fullOverlap: full / rest.length, anyOverlap: any / rest.length, others: rest.length };
}

/** Shards larger than this are compared pair by pair instead of by inclusion-exclusion. */
const MAX_SUBSET_K = 10;

/** Both fractions averaged over every function of `functionKeys` (duplicates counted once). */
export function fleetBlastRadius(functionKeys: readonly string[], workerIds: readonly string[], k: number): BlastRadius & { functions: number } {
  const keys = [...new Set(functionKeys)];
  const f = keys.length;
  if (f < 2) return { fullOverlap: 0, anyOverlap: 0, functions: f };
  const shards = shardsOf(keys, workerIds, k).map((s) => [...s].sort());
  const exact = new Map<string, number>();
  for (const s of shards) exact.set(s.join("\0"), (exact.get(s.join("\0")) ?? 0) + 1);
  let fullPairs = 0;
  for (const c of exact.values()) fullPairs += c * (c - 1);
  const pairs = f * (f - 1);
  return { fullOverlap: fullPairs / pairs, anyOverlap: anyOverlapPairs(shards) / pairs, functions: f };
}

/** Ordered pairs of distinct functions whose (sorted) shards share at least one worker. */
function anyOverlapPairs(shards: readonly string[][]): number {
  const size = Math.max(0, ...shards.map((s) => s.length));
  if (size > MAX_SUBSET_K) {
    let n = 0;
    const sets = shards.map((s) => new Set(s));
    for (let i = 0; i < shards.length; i++) for (let j = 0; j < shards.length; j++) if (i !== j && shards[j]!.some((w) => sets[i]!.has(w))) n++;
    return n;
  }
  // containing.get(T) = how many shards contain the worker set T; then, per shard S, the shards
  // meeting S number sum over non-empty T in S of (-1)^(|T|+1) containing(T), S itself included.
  const subsets = (s: readonly string[]): Array<{ key: string; sign: number }> => {
    const out: Array<{ key: string; sign: number }> = [];
    for (let mask = 1; mask < 1 << s.length; mask++) {
      const members = s.filter((_, i) => (mask & (1 << i)) !== 0);
      out.push({ key: members.join("\0"), sign: members.length % 2 === 1 ? 1 : -1 });
    }
    return out;
  };
  const containing = new Map<string, number>();
  const perShard = shards.map(subsets);
  for (const list of perShard) for (const { key } of list) containing.set(key, (containing.get(key) ?? 0) + 1);
  let n = 0;
  for (const list of perShard) {
    let meeting = 0;
    for (const { key, sign } of list) meeting += sign * containing.get(key)!;
    n += meeting - 1;
  }
  return n;
}
