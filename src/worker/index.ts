/**
 * worker: hosts execution environments: sandboxes through a driver, their Runtime API, timeouts,
 * memory figures, logs and REPORT lines. Must not import: api, frontend, control, assignment.
 */
export { Worker, type WorkerOptions, type EnvironmentSpec } from "./worker.js";
export { ExecutionEnvironment, type InvocationInput, type InvocationOutcome } from "./environment.js";
export { functionEnvironment, logStreamName } from "./variables.js";
