/**
 * The counting service's ledger: how many invocations are in flight per account and per
 * function, and whether one more may start.
 *
 * Algorithm: an invocation may start when the account's in-flight count is below its
 * concurrency limit. A slot is held from admission until the invocation's outcome is known,
 * then released exactly once. The decision is a pure function of the counters (`admit`),
 * so it is tested without servers; the class only keeps the counters.
 *
 * Worked example: limit 2. A starts (1/2), B starts (2/2), C is throttled with
 * ConcurrentInvocationLimitExceeded, A finishes (1/2), C retried starts (2/2).
 *
 * Known caveats: standalone mode counts in one process; the cluster mode needs the counters
 * replicated (region-wide view in Lambda's design). Reserved concurrency arrives with the
 * control-plane issue.
 */

export type ThrottleReason = "ConcurrentInvocationLimitExceeded" | "ReservedFunctionConcurrentInvocationLimitExceeded";

export interface CountingState {
  accountInFlight: number;
  accountLimit: number;
}

export type Admission = { admitted: true } | { admitted: false; reason: ThrottleReason };

export function admit(state: CountingState): Admission {
  if (state.accountInFlight >= state.accountLimit) return { admitted: false, reason: "ConcurrentInvocationLimitExceeded" };
  return { admitted: true };
}

export interface Slot {
  readonly accountId: string;
  readonly functionKey: string;
  released: boolean;
}

export class ConcurrencyLedger {
  private readonly accounts = new Map<string, number>();
  private readonly functions = new Map<string, number>();

  constructor(private readonly accountLimit: (accountId: string) => number) {}

  tryAcquire(accountId: string, functionKey: string): { slot: Slot } | { reason: ThrottleReason } {
    const inFlight = this.accounts.get(accountId) ?? 0;
    const decision = admit({ accountInFlight: inFlight, accountLimit: this.accountLimit(accountId) });
    if (!decision.admitted) return { reason: decision.reason };
    this.accounts.set(accountId, inFlight + 1);
    this.functions.set(functionKey, (this.functions.get(functionKey) ?? 0) + 1);
    return { slot: { accountId, functionKey, released: false } };
  }

  release(slot: Slot): void {
    if (slot.released) return;
    slot.released = true;
    const a = (this.accounts.get(slot.accountId) ?? 1) - 1;
    if (a <= 0) this.accounts.delete(slot.accountId);
    else this.accounts.set(slot.accountId, a);
    const f = (this.functions.get(slot.functionKey) ?? 1) - 1;
    if (f <= 0) this.functions.delete(slot.functionKey);
    else this.functions.set(slot.functionKey, f);
  }

  inFlight(accountId: string): number {
    return this.accounts.get(accountId) ?? 0;
  }

  functionInFlight(functionKey: string): number {
    return this.functions.get(functionKey) ?? 0;
  }
}
