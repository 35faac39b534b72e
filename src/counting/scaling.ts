/**
 * The per-function scaling rate: how fast a function may add execution environments.
 *
 * Algorithm: a token bucket per function. It holds at most `burst` tokens (Lambda: 1,000) and
 * refills continuously at burst / window (1,000 per 10 s = one every 10 ms); a full bucket does not
 * accrue more. Each new execution environment (a cold start) takes one token; with none left the
 * invocation is throttled. Warm invocations never touch the bucket. Pure over (state, now), so
 * tests move a fake clock instead of sleeping.
 *
 * Worked example: burst 1,000, window 10 s. At t=0 a spike creates 1,000 environments: the bucket
 * is empty and the 1,001st cold start is refused. At t=50 ms five tokens are back; at t=10 s the
 * bucket is full again, and stays at 1,000 however long the function is idle.
 *
 * Known caveats: counted per process (standalone); the cluster mode needs the bucket where the
 * function's assignment partition lives. Provisioned environments are not drawn from the bucket.
 * https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html
 */

/** Lambda's scaling rate: 1,000 new execution environments per 10 seconds, per function. */
export const SCALING_BURST = 1000;
export const SCALING_WINDOW_MS = 10_000;

export interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (clock milliseconds). */
  at: number;
}

/** The bucket as of `now`: refilled for the time elapsed, never beyond `burst`. */
export function refill(b: Bucket, now: number, burst: number, windowMs: number): Bucket {
  if (now <= b.at) return b;
  return { tokens: Math.min(burst, b.tokens + ((now - b.at) * burst) / windowMs), at: now };
}

/** Takes one token if there is one: the new bucket, and whether the cold start may go ahead. */
export function takeToken(b: Bucket | undefined, now: number, burst: number, windowMs: number): { bucket: Bucket; ok: boolean } {
  const cur = b === undefined ? { tokens: burst, at: now } : refill(b, now, burst, windowMs);
  if (cur.tokens < 1) return { bucket: cur, ok: false };
  return { bucket: { tokens: cur.tokens - 1, at: cur.at }, ok: true };
}

export class ScalingLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly now: () => number,
    private readonly burst = SCALING_BURST,
    private readonly windowMs = SCALING_WINDOW_MS,
  ) {}

  /** One more execution environment for `functionKey`, if its scaling rate allows it. */
  tryScaleUp(functionKey: string): boolean {
    const now = this.now();
    const { bucket, ok } = takeToken(this.buckets.get(functionKey), now, this.burst, this.windowMs);
    this.buckets.set(functionKey, bucket);
    if (this.buckets.size > 10_000) this.prune(now);
    return ok;
  }

  /** Full buckets carry no information: forget them. */
  private prune(now: number): void {
    for (const [k, b] of this.buckets) if (refill(b, now, this.burst, this.windowMs).tokens >= this.burst) this.buckets.delete(k);
  }
}
