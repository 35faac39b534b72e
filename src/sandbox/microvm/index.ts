/**
 * sandbox/microvm: the `microvm` driver (QEMU `-M microvm`, KVM or TCG) and its VM snapshots.
 * See README.md. Imports only the sandbox contract, images/ and base/.
 */
export { createMicroVmDriver, GUEST_OVERHEAD_MB, DEFAULT_EPHEMERAL_MB, type MicroVmDriver, type MicroVmDriverOptions } from "./driver.js";
export { probeAccelerator, type AcceleratorProbe } from "./accel.js";
export { qemuArgs, type Accelerator, type QemuPlan } from "./qemu-args.js";
export type { MicroVmSandbox } from "./sandbox.js";
export { buildVmSnapshot, restoreVmSnapshot, dropPageCache, recordPageLog, prefetchPageLog, type VmSnapshot, type RestoreTimings } from "./snapshot.js";
