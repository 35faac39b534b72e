/**
 * What happens to an asynchronous event after each attempt: pure decisions over the event's
 * progress, its function's error handling and the current time (passed in, never read).
 *
 * Algorithm, as Lambda documents it (invocation-async-error-handling):
 * - Before an attempt, an event at least MaximumEventAgeInSeconds old fails with EventAgeExceeded.
 * - A function error (the function ran and failed) is retried up to MaximumRetryAttempts times,
 *   the n-th retry `retryDelaysMs[n-1]` after the failure (Lambda: about 1, then 2 minutes; the
 *   last delay repeats); after that the event fails with RetriesExhausted.
 * - A throttle (429) or a platform error is not an attempt: the event goes back to the queue for a
 *   backoff that doubles from `backoffBaseMs` up to `backoffMaxMs` (Lambda: 1 s up to 5 minutes),
 *   for as long as the event is young enough.
 * - A function that no longer exists, or a request the function can never take, drops the event
 *   (FunctionNotFound, or the error code) without destinations.
 * A retry that would come after the event's expiry is scheduled at the expiry instead, where the
 * age check fails it; a retry due when the event is already expired fails it at once.
 *
 * Worked example (retry delays 60 s and 120 s, max age 6 h): accepted at t=0, runs at 0 and
 * fails -> retry at 60 s; runs and fails -> retry at 180 s; runs and fails -> RetriesExhausted,
 * approximateInvokeCount 3. Throttled instead, it waits 1, 2, 4, 8 ... s, each wait capped at
 * 300 s, and fails with EventAgeExceeded (approximateInvokeCount 0) once 6 h have passed.
 *
 * Known caveats: no jitter (deterministic tests; one process polls, so there is no herd). The
 * error handling is read at each decision, so a changed MaximumEventAgeInSeconds applies to
 * events already waiting, and an event parked at its old expiry may run earlier than its delay.
 */

export interface RetryPolicy {
  /** Delay before the n-th retry after a function error (the last one repeats). */
  retryDelaysMs: readonly number[];
  /** Throttle/platform-error backoff: base * 2^k, capped. */
  backoffBaseMs: number;
  backoffMaxMs: number;
}

/** A function's async error handling (its event invoke config, defaults filled in). */
export interface ErrorHandling {
  maximumRetryAttempts: number;
  maximumEventAgeMs: number;
}

export interface EventProgress {
  receivedAt: number;
  /** Times the function ran this event before this attempt. */
  attempts: number;
  /** Consecutive requeues after throttles or platform errors. */
  backoffs: number;
}

export type AttemptOutcome = "success" | "function-error" | "throttled" | "platform-error" | "gone" | "rejected";

export type FailureCondition = "RetriesExhausted" | "EventAgeExceeded";

export type Decision =
  | { action: "ack"; attempts: number }
  | { action: "retry"; at: number; attempts: number; backoffs: number; counter: "retries" | "throttles" | "platformErrors" }
  | { action: "fail"; condition: FailureCondition; attempts: number }
  | { action: "drop"; reason: "FunctionNotFound" | "Rejected"; attempts: number };

export const expiresAt = (p: Pick<EventProgress, "receivedAt">, h: ErrorHandling): number => p.receivedAt + h.maximumEventAgeMs;

/** Whether the event may run now, or has aged out. */
export function beforeAttempt(p: EventProgress, h: ErrorHandling, now: number): { action: "run" } | Extract<Decision, { action: "fail" }> {
  return now >= expiresAt(p, h) ? { action: "fail", condition: "EventAgeExceeded", attempts: p.attempts } : { action: "run" };
}

export function backoffMs(backoffs: number, policy: RetryPolicy): number {
  return Math.min(policy.backoffBaseMs * 2 ** Math.min(backoffs, 40), policy.backoffMaxMs);
}

export function retryDelayMs(retriesDone: number, policy: RetryPolicy): number {
  const d = policy.retryDelaysMs;
  return d[Math.min(retriesDone, d.length - 1)] ?? 0;
}

/** The decision after one attempt ended with `outcome`. */
export function afterAttempt(p: EventProgress, outcome: AttemptOutcome, h: ErrorHandling, policy: RetryPolicy, now: number): Decision {
  const ran = outcome === "success" || outcome === "function-error";
  const attempts = ran ? p.attempts + 1 : p.attempts;
  switch (outcome) {
    case "success":
      return { action: "ack", attempts };
    case "gone":
      return { action: "drop", reason: "FunctionNotFound", attempts };
    case "rejected":
      return { action: "drop", reason: "Rejected", attempts };
    case "function-error": {
      const retriesDone = attempts - 1;
      if (retriesDone >= h.maximumRetryAttempts) return { action: "fail", condition: "RetriesExhausted", attempts };
      return schedule(p, h, now, now + retryDelayMs(retriesDone, policy), { attempts, backoffs: 0, counter: "retries" });
    }
    case "throttled":
    case "platform-error":
      return schedule(p, h, now, now + backoffMs(p.backoffs, policy), {
        attempts,
        backoffs: p.backoffs + 1,
        counter: outcome === "throttled" ? "throttles" : "platformErrors",
      });
  }
}

function schedule(
  p: EventProgress,
  h: ErrorHandling,
  now: number,
  at: number,
  rest: { attempts: number; backoffs: number; counter: "retries" | "throttles" | "platformErrors" },
): Decision {
  const expiry = expiresAt(p, h);
  if (now >= expiry) return { action: "fail", condition: "EventAgeExceeded", attempts: rest.attempts };
  return { action: "retry", at: Math.min(at, expiry), ...rest };
}
