/**
 * Placement: which worker gets a new sandbox. Pure: plain loads in, a worker id (or a refusal) out.
 *
 * Algorithm:
 *   1. The function is `request.functionKey` ("accountId/functionName", default: the configKey's
 *      first two segments). Workers that are draining, or whose load signals are unknown
 *      (non-finite, no total memory), are left out: for placement they have already gone.
 *   2. Shuffle sharding (shard.ts): the active workers in the function's rendezvous order; the
 *      first k (default 4, capped at n) are its shard, the next s (default s = k) its spill.
 *   3. Among the shard's workers with room (free memory >= the sandbox's), the lowest score wins
 *      (score.ts: spread this configuration, avoid hot CPUs, mix accounts, best fit on memory;
 *      ties to the lower worker id).
 *   4. Spill policy: only if no worker of the shard has room, the same choice runs over the spill.
 *      If the spill has no room either, placement refuses (the caller answers "no capacity")
 *      rather than spreading the function further: a poison-pill function reaches at most k + s
 *      workers, capacity exhaustion degrades gracefully, and the choice stays deterministic.
 *
 * Worked example (place.test.ts runs it): workers w1..w6, each 4096 MB, active unless said.
 * A 512 MB sandbox of "111122223333/thumbnail/3/r1", k = 3, s = 3. Rendezvous order of
 * "111122223333/thumbnail": w6, w5, w2 (the shard), then w1, w4, w3 (the spill).
 *   w6: 0 of thumbnail, 4 sandboxes, 3 of the account, 1024 MB free, CPU 0.95
 *       -> 0 + 3 x 0.75 + 0.75 + 0.5 x 0.125 = 3.06
 *   w5: 2 of thumbnail, 8 sandboxes, 2 of the account (both thumbnail), 2048 MB free, CPU 0.3
 *       -> 2 + 0 + 0 + 0.5 x 0.375 = 2.19
 *   w2: 1 of thumbnail, 4 sandboxes, 1 of the account, 3072 MB free, CPU 0.5
 *       -> 1 + 0 + 0 + 0.5 x 0.625 = 1.31  <- chosen (w1, w4, w3 are not considered)
 * With w2 draining and w5 full (256 MB free), the shard becomes w6, w5, w1 (w1 moves up) and the
 * idle w1 (0 sandboxes, 4096 MB free, CPU 0.1: score 0.44) wins over w6. With w6, w5 and w2 all
 * active but full, the spill w1, w4, w3 is scored the same way; with the spill full as well,
 * placement refuses ("no-room").
 *
 * Known caveats: decisions are only as fresh as the loads (in a cluster, the last heartbeat), so
 * concurrent placements between two heartbeats may all pick the same worker; the spill never
 * widens on its own (a function that needs more than 2k workers' memory is refused); a worker
 * counts as one unit whatever its size; a decision is O(n), every active worker's rendezvous weight
 * being computed (about 80 µs of CPU at 1,000 workers, bench/scenarios/placement-blast.ts); with
 * n <= k every function shares every worker and this reduces to spread-then-best-fit on one machine.
 */
import { isKnown, type PlacementRequest, type WorkerLoad } from "./load.js";
import { score, scoreTerms, HOT_CPU, type ScoredRequest } from "./score.js";
import { accountOf, functionKeyOf, rendezvousTop, DEFAULT_SHARD_SIZE } from "./shard.js";

export interface PlacementOptions {
  /** Workers per shard, k (default DEFAULT_SHARD_SIZE = 4, capped at the active workers). */
  shardSize?: number;
  /** Workers beyond the shard that may take the function when its shard is full (default: k). */
  spill?: number;
  /** CPU utilisation above which a worker is penalised (default HOT_CPU = 0.8). */
  hotCpu?: number;
}

export type Placement =
  | { workerId: string; from: "shard" | "spill"; shard: string[] }
  | { workerId: undefined; reason: "no-active-worker" | "no-room"; shard: string[] };

/** The decision with its reason: the worker, whether it came from the shard or the spill, and the shard. */
export function decidePlacement(request: PlacementRequest, workers: readonly WorkerLoad[], options: PlacementOptions = {}): Placement {
  const functionKey = request.functionKey ?? functionKeyOf(request.configKey);
  const wantK = Math.max(1, Math.floor(options.shardSize ?? DEFAULT_SHARD_SIZE));
  const wantS = Math.max(0, Math.floor(options.spill ?? wantK));
  // One pass: the first k + s active workers; fewer means every active worker is in the list.
  const ranked = rendezvousTop(functionKey, workers, (w) => w.id, wantK + wantS, (w) => w.state === "active" && isKnown(w));
  if (ranked.length === 0) return { workerId: undefined, reason: "no-active-worker", shard: [] };
  const k = Math.min(wantK, ranked.length);
  const s = Math.max(0, Math.floor(options.spill ?? k));
  const shard = ranked.slice(0, k);
  const scored: ScoredRequest = { configKey: request.configKey, accountId: accountOf(functionKey), memoryMB: request.memoryMB };
  const hot = options.hotCpu ?? HOT_CPU;
  const home = best(scored, shard, hot);
  const shardIds = shard.map((w) => w.id);
  if (home !== undefined) return { workerId: home, from: "shard", shard: shardIds };
  const spilled = best(scored, ranked.slice(k, k + s), hot);
  if (spilled !== undefined) return { workerId: spilled, from: "spill", shard: shardIds };
  return { workerId: undefined, reason: "no-room", shard: shardIds };
}

/** The worker for a new sandbox, or undefined when neither the function's shard nor its spill has room. */
export function place(request: PlacementRequest, workers: readonly WorkerLoad[], options: PlacementOptions = {}): string | undefined {
  return decidePlacement(request, workers, options).workerId;
}

function best(request: ScoredRequest, candidates: readonly WorkerLoad[], hotCpu: number): string | undefined {
  let winner: { id: string; score: number } | undefined;
  for (const w of candidates) {
    if (w.freeMemoryMB < request.memoryMB) continue;
    const s = score(scoreTerms(request, w, hotCpu));
    if (!winner || s < winner.score || (s === winner.score && w.id < winner.id)) winner = { id: w.id, score: s };
  }
  return winner?.id;
}
