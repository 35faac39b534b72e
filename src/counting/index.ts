/**
 * counting: the concurrency ledger (account limit, reserved concurrency, the unreserved pool,
 * provisioned shares) and the per-function scaling rate. Must not import any component but base.
 */
export { ConcurrencyLedger, admit, type Slot, type ThrottleReason, type Admission, type CountingState, type Allocation } from "./ledger.js";
export { ScalingLimiter, takeToken, refill, SCALING_BURST, SCALING_WINDOW_MS, type Bucket } from "./scaling.js";
