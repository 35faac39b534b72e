/**
 * counting: the concurrency ledger (account limit now; reserved concurrency and scaling rate later).
 * Must not import any component but base.
 */
export { ConcurrencyLedger, admit, type Slot, type ThrottleReason, type Admission, type CountingState } from "./ledger.js";
