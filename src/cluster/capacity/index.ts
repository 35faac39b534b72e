/**
 * cluster/capacity: the capacity manager. decide() (pure) turns demand signals into add/remove/
 * hold; CapacityManager polls the signals and drives a CapacityProvider; LocalProcessProvider
 * starts and stops worker processes on this machine; startCapacityControl runs the manager on the
 * one control node elected for it (key `capacity` in KV `kiln-leaders`).
 * Imports base, cluster/workers (types) and cluster/assignment (the election and its bucket).
 */
export { decide, DEFAULT_CAPACITY_POLICY, type CapacityDecision, type CapacityPolicy, type CapacitySignals, type CapacityWorker } from "./decide.js";
export type { CapacityProvider } from "./provider.js";
export { CapacityManager, type CapacityManagerOptions } from "./manager.js";
export { LocalProcessProvider, type LocalProcessProviderOptions } from "./local-process.js";
export { concurrencyInUse, CreationTally } from "./signals.js";
export { DutyLeadership, CAPACITY_LEADER_KEY, type DutyLeadershipOptions } from "./leadership.js";
export { startCapacityControl, type CapacityControl, type CapacityControlOptions } from "./control.js";
