/**
 * worker: hosts execution environments: sandboxes through a driver, their Runtime API, timeouts,
 * memory figures, logs and REPORT lines. Must not import: api, frontend, control, assignment.
 */
export { Worker, type WorkerOptions, type EnvironmentSpec, type HostedEnvironment } from "./worker.js";
export { DEFAULT_POOL_WINDOW_MS, DEFAULT_POOL_BURST_MS, DEFAULT_POOL_RESERVE_MB, type PoolSizingConfig } from "./pool/sizing.js";
export type { PoolStats, PoolClassStats } from "./pool/pool.js";
export { ExecutionEnvironment, type InvocationInput, type InvocationOutcome } from "./environment.js";
export { functionEnvironment, logStreamName } from "./variables.js";
