/**
 * Which cold starts a pre-initialized sandbox may serve. Pure.
 *
 * A pooled runtime booted before anyone knew the function, with the platform's boot environment.
 * At specialization it takes on the function's environment, which is exact for everything read
 * while the function runs (process.env / os.environ, child processes, cwd, TZ) but cannot undo what
 * the interpreter or the dynamic linker read once at process start. The platform's own variables
 * that matter at start (PATH, LANG, TZ, LD_LIBRARY_PATH, NODE_PATH, PYTHONPATH, HOME) are the same
 * for every function (worker/variables.ts sets them after the user's, so users cannot change them).
 * So a function is refused the pool exactly when one of ITS variables is read at process start:
 *
 *   every runtime: LD_* (dynamic linker), MALLOC_* / GLIBC_TUNABLES (allocator), LC_* / LANGUAGE
 *                  (locale, read at start by CPython and by ICU), OPENSSL_* / SSL_CERT_* (read when
 *                  OpenSSL initializes, at start in Node);
 *   nodejs:        NODE_* (NODE_OPTIONS, NODE_EXTRA_CA_CERTS, NODE_ICU_DATA, ...) and UV_* (libuv,
 *                  e.g. UV_THREADPOOL_SIZE, read when the thread pool first starts);
 *   python:        PYTHON* (PYTHONHASHSEED, PYTHONUTF8, PYTHONWARNINGS, ...).
 *
 * Such functions get a fresh spawn, which is always exact. Only runtimes whose bootstrap can wait
 * for a function are pooled: nodejs20.x and python3.11 (a provided.* bootstrap IS the function).
 *
 * SnapStart restores have a pool kind of their own, "snapstart": jails whose launcher waits for the
 * specialization and then exec()s `node --snapshot-blob` with the function's environment, so the
 * restored process starts exactly as a fresh one would (nothing is read before exec): every
 * SnapStart cold start may use one.
 *
 * Worked example: nodejs20.x with {TABLE: "t"} -> pooled (kind nodejs20.x); with {NODE_OPTIONS:
 * "--enable-source-maps"} -> fresh spawn (blockers ["NODE_OPTIONS"]); python3.11 with
 * {NODE_OPTIONS: "x"} -> pooled (Python never reads it); a SnapStart restore with {NODE_OPTIONS:
 * "x"} -> pooled, kind snapstart (its node starts after the exec, with that environment).
 */
import type { RuntimeName } from "../../sandbox/index.js";

export const POOLED_RUNTIMES = ["nodejs20.x", "python3.11"] as const satisfies readonly RuntimeName[];
export type PooledRuntime = (typeof POOLED_RUNTIMES)[number];

export const isPooledRuntime = (r: RuntimeName): r is PooledRuntime => (POOLED_RUNTIMES as readonly string[]).includes(r);

/** What a pooled sandbox was booted for: a runtime waiting for its function, or the SnapStart launcher. */
export type PoolKind = PooledRuntime | "snapstart";
export const POOL_KINDS: readonly PoolKind[] = [...POOLED_RUNTIMES, "snapstart"];

const EVERY_RUNTIME = [/^LD_/, /^MALLOC_/, /^GLIBC_TUNABLES$/, /^LC_/, /^LANGUAGE$/, /^OPENSSL_/, /^SSL_CERT_/];
const READ_AT_START: Record<PooledRuntime, RegExp[]> = {
  "nodejs20.x": [...EVERY_RUNTIME, /^NODE_/, /^UV_/],
  "python3.11": [...EVERY_RUNTIME, /^PYTHON/],
};

/** The function's own variables that its runtime reads at process start (empty: it may be pooled). */
export function startupVariables(runtime: PooledRuntime, userEnv: Record<string, string>): string[] {
  const patterns = READ_AT_START[runtime];
  return Object.keys(userEnv)
    .filter((k) => patterns.some((p) => p.test(k)))
    .sort();
}

export type PoolDecision = { pooled: true; kind: PoolKind } | { pooled: false; why: "runtime" | "variables"; variables?: string[] };

/** Whether a cold start may take a pre-initialized sandbox, and of which kind. */
export function poolDecision(input: { runtime: RuntimeName; userEnv: Record<string, string>; snapshot: boolean }): PoolDecision {
  if (input.snapshot) return { pooled: true, kind: "snapstart" };
  if (!isPooledRuntime(input.runtime)) return { pooled: false, why: "runtime" };
  const variables = startupVariables(input.runtime, input.userEnv);
  return variables.length > 0 ? { pooled: false, why: "variables", variables } : { pooled: true, kind: input.runtime };
}
