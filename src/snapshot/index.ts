/**
 * snapshot: SnapStart. Snapshots of initialized functions, created when a version is published and
 * restored by that version's cold starts instead of running init, with restore uniqueness (RNG
 * reseeding, after-restore hooks). For process sandboxes: V8 startup snapshots of nodejs20.x
 * functions (v8/); Python and OS-only runtimes report why they have none. Micro-VM snapshots join
 * here with the microvm driver.
 *
 * Must not import: api, frontend, control, assignment, worker (the caller builds the environment).
 */
export { SnapshotService, DEFAULT_BUILD_TIMEOUT_MS, SNAPSHOT_CHECK_VARIABLE, type SnapshotRequest, type SnapshotResult, type SnapshotServiceOptions } from "./service.js";
export { VmSnapshotService, DEFAULT_VM_BUILD_TIMEOUT_MS, type VmSnapshotServiceOptions } from "./vm/service.js";
export { type SnapshotFileStore, type SnapshotFiles } from "./files.js";
export { unsupportedRuntimeReason, PYTHON_REASON, type SnapStartReasonCode } from "./v8/plan.js";
