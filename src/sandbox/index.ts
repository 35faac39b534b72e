/**
 * sandbox: execution-environment drivers behind one contract.
 *
 * A sandbox is one isolated execution environment for exactly one function version of one
 * account; it runs one language runtime process tree, which talks to the worker's Runtime API
 * at AWS_LAMBDA_RUNTIME_API (127.0.0.1:9001 inside the sandbox, bridged to a unix socket the
 * worker listens on). Drivers: `process` (bubblewrap-jailed process tree + cgroup memory limit)
 * and `none` (plain child process, for hosts without bubblewrap; no isolation).
 *
 * Must not import: worker, assignment, frontend, api, control, store.
 */
export type { SandboxDriver, Sandbox, SandboxSpec, SandboxEvents, SandboxExit, SandboxStats, RuntimeName, DriverCapabilities, PooledSandbox, PooledSandboxSpec, Specialization, SpecializationResult, RuntimeStartup } from "./contract.js";
export { SUPPORTED_RUNTIMES, isSupportedRuntime, RUNTIME_API_ADDRESS, SNAPSHOT_BLOB_NAME } from "./contract.js";
export { createProcessDriver, type ProcessDriverOptions, probeBubblewrap } from "./process/index.js";
export { DEFAULT_SANDBOX_UID, DEFAULT_SANDBOX_GID, DEFAULT_MAX_PROCESSES, SANDBOX_USER_NAME, SOCKET_DIR_IN_SANDBOX, type BubblewrapProbe } from "./process/index.js";
export { createMicroVmDriver, probeAccelerator, buildVmSnapshot, restoreVmSnapshot, GUEST_OVERHEAD_MB, type MicroVmDriver, type MicroVmDriverOptions, type AcceleratorProbe, type VmSnapshot } from "./microvm/index.js";
export { SandboxError, isSandboxError, type SandboxFailure } from "./errors.js";
