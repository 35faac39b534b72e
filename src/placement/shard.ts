/**
 * Shuffle sharding: the stable set of workers a function may run on, chosen by rendezvous
 * (highest-random-weight) hashing. Pure.
 *
 * Algorithm: every worker gets the weight `pairWeight(hash(functionKey), hash(workerId))`
 * (hash.ts); workers ranked by weight, highest first (ties: lower worker id first), form the
 * function's rendezvous order, and its first k workers are the function's shard. A function's
 * weight on a worker does not depend on which other workers exist, so adding a worker moves only
 * the functions that now rank it among their first k (each gives up its k-th worker), and removing
 * one moves only the functions whose shard held it (each takes its (k+1)-th).
 *
 * The default k is 4 (DEFAULT_SHARD_SIZE), capped at n:
 *   - k >= 2 so that one worker failing or draining never leaves a function with no warm worker;
 *   - small k keeps the blast radius small: a poison-pill function (one that crashes or saturates
 *     its workers) reaches k workers, and another function shares all of them with probability
 *     1 / C(n, k) (1 in 3,921,225 at n = 100; 1 in 70 at n = 8);
 *   - a fixed k rather than one that grows with n (n/4 would be 250 workers of 1,000, a quarter of
 *     the fleet per poison pill): a function's capacity beyond its shard comes from the bounded
 *     spill (place.ts), not from a wider shard. This is the AWS shuffle-sharding choice (Route 53's
 *     virtual name servers: 4 of 2,048).
 *
 * Worked example: with workers w1..w6, the rendezvous order of "111122223333/thumbnail" is
 * w6, w5, w2, w1, w4, w3, so shardOf(it, workers, 3) is [w6, w5, w2]; without w2 it is
 * [w6, w5, w1] (w1 was 4th). "111122223333/billing" (order w6, w1, w4, w2, …) keeps its shard
 * [w6, w1, w4] when w2 goes: its shard never held w2 (shard.test.ts).
 *
 * Known caveats: the shard ignores capacity and worker size (place.ts handles a full shard); with
 * n <= k every function shares every worker, as on a single machine.
 */
import { pairWeight, stringHash, workerHash } from "./hash.js";

/** Workers per function shard unless the caller chooses (see the header for why 4). */
export const DEFAULT_SHARD_SIZE = 4;

/** "accountId/name/version/revision" (configKey, control/functions.ts) -> "accountId/name". */
export function functionKeyOf(configKey: string): string {
  const first = configKey.indexOf("/");
  if (first < 0) return configKey;
  const second = configKey.indexOf("/", first + 1);
  return second < 0 ? configKey : configKey.slice(0, second);
}

/** The account part of a function key or configKey ("accountId/…" -> "accountId"). */
export function accountOf(key: string): string {
  const first = key.indexOf("/");
  return first < 0 ? key : key.slice(0, first);
}

/** k for a fleet of n workers: the requested size (default 4), at least 1, at most n. */
export function shardSize(n: number, k: number = DEFAULT_SHARD_SIZE): number {
  return Math.max(0, Math.min(n, Math.max(1, Math.floor(k))));
}

/** The first m (weight, id) entries kept best first: heavier weight, then lower id. */
class Top<T> {
  readonly entries: Array<{ item: T; id: string; weight: number }> = [];
  constructor(private readonly m: number) {}

  offer(item: T, id: string, weight: number): void {
    const top = this.entries;
    if (this.m <= 0) return;
    if (top.length === this.m) {
      const last = top[this.m - 1]!;
      if (weight < last.weight || (weight === last.weight && id > last.id)) return;
      top.pop();
    }
    let i = top.length;
    while (i > 0) {
      const prev = top[i - 1]!;
      if (prev.weight > weight || (prev.weight === weight && prev.id < id)) break;
      i--;
    }
    top.splice(i, 0, { item, id, weight });
  }

  items(): T[] {
    return this.entries.map((e) => e.item);
  }
}

/**
 * The first m items in the function's rendezvous order, best first (O(n·m), no full sort), among
 * those `keep` accepts. `idOf` names each item's worker; ids must be unique.
 */
export function rendezvousTop<T>(functionKey: string, items: readonly T[], idOf: (item: T) => string, m: number, keep?: (item: T) => boolean): T[] {
  const fn = stringHash(functionKey);
  const top = new Top<T>(m);
  for (const item of items) {
    if (keep !== undefined && !keep(item)) continue;
    const id = idOf(item);
    top.offer(item, id, pairWeight(fn, workerHash(id)));
  }
  return top.items();
}

/** The shards of many functions over one fleet (the workers are hashed once). */
export function shardsOf(functionKeys: readonly string[], workerIds: readonly string[], k: number = DEFAULT_SHARD_SIZE): string[][] {
  const hashes = workerIds.map((id) => stringHash(id));
  const m = shardSize(workerIds.length, k);
  return functionKeys.map((key) => {
    const fn = stringHash(key);
    const top = new Top<string>(m);
    for (let i = 0; i < workerIds.length; i++) top.offer(workerIds[i]!, workerIds[i]!, pairWeight(fn, hashes[i]!));
    return top.items();
  });
}

/** Every worker in the function's rendezvous order, best first. */
export function rendezvousOrder(functionKey: string, workerIds: readonly string[]): string[] {
  return rendezvousTop(functionKey, workerIds, (id) => id, workerIds.length);
}

/** The function's shard: the first k of its rendezvous order (k capped at n). */
export function shardOf(functionKey: string, workerIds: readonly string[], k: number = DEFAULT_SHARD_SIZE): string[] {
  return rendezvousTop(functionKey, workerIds, (id) => id, shardSize(workerIds.length, k));
}
