/**
 * The counting service's ledger: how many invocations are in flight per account and per
 * function, and whether one more may start.
 *
 * Algorithm: each function has an allocation: its reserved concurrency r when it has one, else
 * its provisioned concurrency p (0 without). The account limit L minus every allocation is the
 * unreserved pool. An invocation of a function with a reservation starts while the function has
 * fewer than r in flight (r = 0 throttles everything), else it is throttled with
 * ReservedFunctionConcurrentInvocationLimitExceeded; it never touches the pool. An invocation of
 * any other function starts within its own p first, then takes a place in the pool while the pool
 * has room, else it is throttled with ConcurrentInvocationLimitExceeded. A slot is held from
 * admission until the invocation's outcome is known and released exactly once. The decision is a
 * pure function of the counters (`admit`), tested without servers; the class keeps the counters.
 *
 * Worked example: L = 1,000, f reserves 2, g provisions 10: pool = 988. f: A starts (1/2),
 * B starts (2/2), C throttled (Reserved...), A finishes, C retried starts. g: its first 10
 * concurrent invocations use its provisioned share, the 11th takes a place in the pool.
 *
 * Known caveats: standalone mode counts in one process; the cluster mode needs the counters
 * replicated (region-wide view in Lambda's design). A slot keeps the kind of place it took when the
 * function's settings change under it, so counters drift back to exact as invocations finish.
 */

export type ThrottleReason = "ConcurrentInvocationLimitExceeded" | "ReservedFunctionConcurrentInvocationLimitExceeded";

export interface CountingState {
  accountInFlight: number;
  accountLimit: number;
  /** In-flight invocations of the function asking, and its settings. */
  functionInFlight?: number;
  reserved?: number;
  provisioned?: number;
  /** Places taken in the account's unreserved pool, and its size (limit minus allocations). */
  poolInUse?: number;
  poolSize?: number;
}

export type Admission = { admitted: true; fromPool: boolean } | { admitted: false; reason: ThrottleReason };

export function admit(s: CountingState): Admission {
  const inFlight = s.functionInFlight ?? 0;
  if (s.reserved !== undefined) {
    return inFlight < s.reserved ? { admitted: true, fromPool: false } : { admitted: false, reason: "ReservedFunctionConcurrentInvocationLimitExceeded" };
  }
  if (s.accountInFlight >= s.accountLimit) return { admitted: false, reason: "ConcurrentInvocationLimitExceeded" };
  if (inFlight < (s.provisioned ?? 0)) return { admitted: true, fromPool: false };
  if ((s.poolInUse ?? s.accountInFlight) >= (s.poolSize ?? s.accountLimit)) return { admitted: false, reason: "ConcurrentInvocationLimitExceeded" };
  return { admitted: true, fromPool: true };
}

export interface Slot {
  readonly accountId: string;
  readonly functionKey: string;
  readonly fromPool: boolean;
  released: boolean;
}

/** A function's concurrency settings, as the control plane states them. */
export interface Allocation {
  reserved?: number;
  provisioned: number;
}

const add = (m: Map<string, number>, k: string, d: number): void => {
  const n = (m.get(k) ?? 0) + d;
  if (n <= 0) m.delete(k);
  else m.set(k, n);
};

export class ConcurrencyLedger {
  private readonly accounts = new Map<string, number>();
  private readonly pools = new Map<string, number>();
  private readonly functions = new Map<string, number>();
  private readonly allocations = new Map<string, { accountId: string; allocation: Allocation }>();
  /** Sum of allocations per account. */
  private readonly allocated = new Map<string, number>();

  constructor(private readonly accountLimit: (accountId: string) => number) {}

  /** Sets (or, with undefined, clears) a function's reserved and provisioned concurrency. */
  setAllocation(accountId: string, functionKey: string, allocation: Allocation | undefined): void {
    const prev = this.allocations.get(functionKey);
    if (prev) add(this.allocated, accountId, -(prev.allocation.reserved ?? prev.allocation.provisioned));
    if (allocation === undefined || (allocation.reserved === undefined && allocation.provisioned === 0)) {
      this.allocations.delete(functionKey);
      return;
    }
    this.allocations.set(functionKey, { accountId, allocation });
    add(this.allocated, accountId, allocation.reserved ?? allocation.provisioned);
  }

  tryAcquire(accountId: string, functionKey: string): { slot: Slot } | { reason: ThrottleReason } {
    const limit = this.accountLimit(accountId);
    const a = this.allocations.get(functionKey)?.allocation;
    const decision = admit({
      accountInFlight: this.inFlight(accountId),
      accountLimit: limit,
      functionInFlight: this.functionInFlight(functionKey),
      provisioned: a?.provisioned ?? 0,
      poolInUse: this.pools.get(accountId) ?? 0,
      poolSize: limit - (this.allocated.get(accountId) ?? 0),
      ...(a?.reserved !== undefined ? { reserved: a.reserved } : {}),
    });
    if (!decision.admitted) return { reason: decision.reason };
    add(this.accounts, accountId, 1);
    add(this.functions, functionKey, 1);
    if (decision.fromPool) add(this.pools, accountId, 1);
    return { slot: { accountId, functionKey, fromPool: decision.fromPool, released: false } };
  }

  release(slot: Slot): void {
    if (slot.released) return;
    slot.released = true;
    add(this.accounts, slot.accountId, -1);
    add(this.functions, slot.functionKey, -1);
    if (slot.fromPool) add(this.pools, slot.accountId, -1);
  }

  inFlight(accountId: string): number {
    return this.accounts.get(accountId) ?? 0;
  }

  functionInFlight(functionKey: string): number {
    return this.functions.get(functionKey) ?? 0;
  }
}
