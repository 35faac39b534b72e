/**
 * SnapStart runtime hooks for Node.js functions, modelled on Lambda's runtime hooks for Python
 * (snapshot_restore_py) and Java (CRaC): code to run before Kiln snapshots an initialized function
 * and after each restore from that snapshot.
 *
 * The API is a global, so it needs no import and works the same in ES modules, CommonJS and
 * bundles; outside Kiln (or on a runtime without it) the optional chain makes it a no-op:
 *
 *   globalThis.kiln?.registerBeforeSnapshot(async () => { await pool.end(); });
 *   globalThis.kiln?.registerAfterRestore(() => { instanceId = crypto.randomUUID(); });
 *
 *   kiln.registerBeforeSnapshot(fn, ...args)  fn(...args) runs once, at PublishVersion, after init
 *                                             and before the snapshot is taken (reverse order of
 *                                             registration, as Lambda runs before-snapshot hooks).
 *   kiln.registerAfterRestore(fn, ...args)    fn(...args) runs in every environment restored from the
 *                                             snapshot, before its first invocation (in order of
 *                                             registration).
 *   kiln.initializationType                   "on-demand" or "snap-start" (as AWS_LAMBDA_INITIALIZATION_TYPE).
 *
 * Both register functions return `fn`, so they work as decorators-by-hand. Hooks may be async;
 * each is awaited before the next. A hook that throws fails the snapshot (before-snapshot: SnapStart
 * is off for the version, with the error as the reason) or the restored environment's init
 * (after-restore: the invocation gets the init error, as any failed init). Hooks registered in a
 * function that is not snapshotted are kept and never run.
 *
 * Kiln itself restores uniqueness before the after-restore hooks run (snapshot-main.mjs): V8
 * re-seeds Math.random in every restored process, OpenSSL's generator (crypto.randomBytes,
 * getRandomValues, ...) is native state that a snapshot does not hold, and the random bytes Node
 * caches in JavaScript for crypto.randomUUID() and crypto.randomInt() are drained. What the
 * function itself derived from randomness during init (ids, seeds, tokens) is the hooks' job.
 */

/** @typedef {{ fn: (...args: any[]) => unknown, args: unknown[] }} Hook */

/** @type {Hook[]} */
const beforeSnapshot = [];
/** @type {Hook[]} */
const afterRestore = [];

/**
 * @template {(...args: any[]) => unknown} F
 * @param {Hook[]} list
 * @param {F} fn
 * @param {unknown[]} args
 * @returns {F}
 */
function register(list, fn, args) {
  if (typeof fn !== "function") throw new TypeError("a runtime hook must be a function");
  list.push({ fn, args });
  return fn;
}

/** Runs the before-snapshot hooks, last registered first. */
export async function runBeforeSnapshot() {
  for (const { fn, args } of [...beforeSnapshot].reverse()) await fn(...args);
}

/** Runs the after-restore hooks in order of registration. */
export async function runAfterRestore() {
  for (const { fn, args } of afterRestore) await fn(...args);
}

/**
 * Installs `globalThis.kiln` (once).
 * @param {"on-demand" | "snap-start"} [initializationType]
 */
export function installRuntimeHooks(initializationType = "on-demand") {
  Object.defineProperty(globalThis, "kiln", {
    value: Object.freeze({
      /** @param {(...args: any[]) => unknown} fn @param {unknown[]} args */
      registerBeforeSnapshot: (fn, ...args) => register(beforeSnapshot, fn, args),
      /** @param {(...args: any[]) => unknown} fn @param {unknown[]} args */
      registerAfterRestore: (fn, ...args) => register(afterRestore, fn, args),
      initializationType,
    }),
    writable: false,
    enumerable: false,
    configurable: true,
  });
}
