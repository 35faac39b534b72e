/**
 * placement: chooses the worker for a new sandbox (shuffle sharding by rendezvous hashing, then a
 * score within the shard) and measures the blast radius of the sharding. Pure; must not import any
 * component but base.
 */
export { place, decidePlacement, type Placement, type PlacementOptions } from "./place.js";
export type { WorkerLoad, WorkerState, PlacementRequest } from "./load.js";
export { DEFAULT_SHARD_SIZE, shardOf, shardsOf, shardSize, rendezvousOrder, functionKeyOf, accountOf } from "./shard.js";
export { HOT_CPU, SCORE_WEIGHTS, scoreTerms, score, type ScoreTerms } from "./score.js";
export { binomial, expectedBlastRadius, measureBlastRadius, fleetBlastRadius, type BlastRadius } from "./blast-radius.js";
