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
 * SnapStart restores have two pool kinds of their own:
 *   - "restored:<snapshot id>": sandboxes restored ahead of demand from one version's snapshot,
 *     waiting (like a pooled runtime) for the environment of the cold start they serve; the same
 *     start-up variable rule applies, as Node started before the function's environment was known;
 *   - "snapstart": jails whose launcher waits for the specialization and then exec()s
 *     `node --snapshot-blob` with the function's environment, so the restored process starts exactly
 *     as a fresh one would (nothing is read before exec): every SnapStart cold start may use one.
 * A SnapStart cold start tries them in that order.
 *
 * Worked example: nodejs20.x with {TABLE: "t"} -> pooled (kind nodejs20.x); with {NODE_OPTIONS:
 * "--enable-source-maps"} -> fresh spawn (blockers ["NODE_OPTIONS"]); python3.11 with
 * {NODE_OPTIONS: "x"} -> pooled (Python never reads it); a SnapStart restore of snapshot s ->
 * kinds [restored:s, snapstart]; with {NODE_OPTIONS: "x"} -> [snapstart] only (its node starts
 * after the exec, with that environment).
 */
import type { RuntimeName } from "../../sandbox/index.js";

export const POOLED_RUNTIMES = ["nodejs20.x", "python3.11"] as const satisfies readonly RuntimeName[];
export type PooledRuntime = (typeof POOLED_RUNTIMES)[number];

export const isPooledRuntime = (r: RuntimeName): r is PooledRuntime => (POOLED_RUNTIMES as readonly string[]).includes(r);

/** What a pooled sandbox was booted for: a runtime waiting for its function, the SnapStart launcher, or one version's snapshot. */
export type PoolKind = PooledRuntime | "snapstart" | `restored:${string}`;
/** The kinds every pool has (restored kinds come and go with demand). */
export const POOL_KINDS: readonly PoolKind[] = [...POOLED_RUNTIMES, "snapstart"];
export const restoredKind = (snapshotId: string): PoolKind => `restored:${snapshotId}`;
export const isRestoredKind = (k: PoolKind): k is `restored:${string}` => k.startsWith("restored:");

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

/** Pool kinds a cold start may take a sandbox of, in order of preference (the first is its demand). */
export type PoolDecision = { pooled: true; kinds: PoolKind[] } | { pooled: false; why: "runtime" | "variables"; variables?: string[] };

/** Whether a cold start may take a pre-initialized sandbox, and of which kinds. */
export function poolDecision(input: { runtime: RuntimeName; userEnv: Record<string, string>; snapshotId?: string | undefined }): PoolDecision {
  const variables = isPooledRuntime(input.runtime) ? startupVariables(input.runtime, input.userEnv) : [];
  if (input.snapshotId !== undefined) return { pooled: true, kinds: variables.length > 0 ? ["snapstart"] : [restoredKind(input.snapshotId), "snapstart"] };
  if (!isPooledRuntime(input.runtime)) return { pooled: false, why: "runtime" };
  return variables.length > 0 ? { pooled: false, why: "variables", variables } : { pooled: true, kinds: [input.runtime] };
}
