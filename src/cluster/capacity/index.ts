/**
 * cluster/capacity: the capacity manager. decide() (pure) turns demand signals into add/remove/
 * hold; CapacityManager polls the signals and drives a CapacityProvider; LocalProcessProvider
 * starts and stops worker processes on this machine. Imports base and cluster/workers (types).
 */
export { decide, DEFAULT_CAPACITY_POLICY, type CapacityDecision, type CapacityPolicy, type CapacitySignals, type CapacityWorker } from "./decide.js";
export type { CapacityProvider } from "./provider.js";
export { CapacityManager, type CapacityManagerOptions } from "./manager.js";
export { LocalProcessProvider, type LocalProcessProviderOptions } from "./local-process.js";
