/**
 * The poller fleet's settings: DEFAULT_* -> environment (KILN_ASYNC_*) -> explicit overrides,
 * validated once. Lambda's values are the defaults; tests and benchmarks shorten the delays.
 */
import { ConfigError } from "../base/index.js";

export interface AsyncOptions {
  /** Pollers: how many asynchronous invocations run at once (KILN_ASYNC_POLLERS). */
  pollers: number;
  /** Delay before the 1st, 2nd … retry after a function error (KILN_ASYNC_RETRY_DELAYS_MS="60000,120000"). */
  retryDelaysMs: number[];
  /** Backoff after throttles and platform errors: first wait, longest wait (KILN_ASYNC_BACKOFF_MS="1000,300000"). */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** How long a leased event stays hidden if its poller never settles it (KILN_ASYNC_LEASE_MS). */
  leaseMs: number;
  /** How often the fleet rescans the queue for work it was not told about (expired leases). */
  rescanMs: number;
}

export const DEFAULT_ASYNC_POLLERS = 16;
/** Lambda retries function errors "about 1 minute, then about 2 minutes" apart (invocation-async-error-handling). */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [60_000, 120_000];
/** Throttles and system errors: "exponential backoff … from 1 second up to 5 minutes". */
export const DEFAULT_BACKOFF_BASE_MS = 1000;
export const DEFAULT_BACKOFF_MAX_MS = 300_000;
/** Longer than the longest function timeout (900 s), so a running invocation is never leased twice. */
export const DEFAULT_LEASE_MS = 16 * 60_000;
export const DEFAULT_RESCAN_MS = 5000;

export function defaultAsyncOptions(): AsyncOptions {
  return {
    pollers: DEFAULT_ASYNC_POLLERS,
    retryDelaysMs: [...DEFAULT_RETRY_DELAYS_MS],
    backoffBaseMs: DEFAULT_BACKOFF_BASE_MS,
    backoffMaxMs: DEFAULT_BACKOFF_MAX_MS,
    leaseMs: DEFAULT_LEASE_MS,
    rescanMs: DEFAULT_RESCAN_MS,
  };
}

function ints(name: string, raw: string, min: number, max: number): number[] {
  const parts = raw.split(",").map((p) => p.trim());
  const out = parts.map(Number);
  if (parts.some((p) => p === "") || out.some((n) => !Number.isInteger(n) || n < min || n > max)) {
    throw new ConfigError(`${name} must be a comma-separated list of integers between ${min} and ${max}, got "${raw}"`);
  }
  return out;
}

function one(name: string, raw: string, min: number, max: number): number {
  const v = ints(name, raw, min, max);
  if (v.length !== 1) throw new ConfigError(`${name} must be one integer between ${min} and ${max}, got "${raw}"`);
  return v[0]!;
}

export function loadAsyncOptions(env: NodeJS.ProcessEnv = process.env, overrides: Partial<AsyncOptions> = {}): AsyncOptions {
  const o = defaultAsyncOptions();
  const set = (k: string) => env[k] !== undefined && env[k] !== "";
  if (set("KILN_ASYNC_POLLERS")) o.pollers = one("KILN_ASYNC_POLLERS", env.KILN_ASYNC_POLLERS!, 1, 1024);
  if (set("KILN_ASYNC_RETRY_DELAYS_MS")) o.retryDelaysMs = ints("KILN_ASYNC_RETRY_DELAYS_MS", env.KILN_ASYNC_RETRY_DELAYS_MS!, 0, 3_600_000);
  if (set("KILN_ASYNC_BACKOFF_MS")) {
    const v = ints("KILN_ASYNC_BACKOFF_MS", env.KILN_ASYNC_BACKOFF_MS!, 1, 3_600_000);
    if (v.length !== 2 || v[0]! > v[1]!) throw new ConfigError(`KILN_ASYNC_BACKOFF_MS must be "first,longest" with first <= longest, got "${env.KILN_ASYNC_BACKOFF_MS}"`);
    [o.backoffBaseMs, o.backoffMaxMs] = v as [number, number];
  }
  if (set("KILN_ASYNC_LEASE_MS")) o.leaseMs = one("KILN_ASYNC_LEASE_MS", env.KILN_ASYNC_LEASE_MS!, 1000, 24 * 3_600_000);
  return { ...o, ...overrides };
}
