/**
 * SnapStart for nodejs20.x: the runtime half of a V8 startup snapshot. Kiln bundles this module
 * with the function (esbuild, one CommonJS file: a snapshot builder script may load nothing but
 * built-ins) behind a generated entry that calls
 *
 *   snapshot(() => require("<the handler's module>"), "<_HANDLER>")
 *
 * and runs it with `node --snapshot-blob ... --build-snapshot` in a jail, with the version's
 * environment. At build: patch console, install the hooks global (kiln.initializationType
 * "snap-start"), require the function's module (its init runs here, once), find the handler, run
 * the before-snapshot hooks; Node writes the heap to the blob when the event loop is empty. A
 * failure exits 70 and no snapshot is used.
 *
 * Each cold start of the version then runs `node --snapshot-blob <blob>`; instead of init, Node
 * calls restored(): restore uniqueness (uniqueness.mjs), connect to the Runtime API (node:http is
 * loaded now: Node 20 cannot hold it in a snapshot), run the after-restore hooks (a failure is the
 * environment's init error), then serve invocations exactly as bootstrap.mjs does. Kiln's trial
 * restore at publish sets _KILN_SNAPSHOT_CHECK and stops right after connecting. A sandbox Kiln
 * restores ahead of demand (pool kind "restored:<snapshot>") starts with _KILN_AWAIT_SPECIALIZATION:
 * it restores, then waits for the Kiln-private specialization (the environment of the cold start
 * it serves, as bootstrap.mjs does) before the hooks run.
 *
 * Differences from a plain start: process.argv has no script path (argv[1] is absent); stack
 * traces name the bundle (/var/snapshot/entry.cjs) instead of the function's files.
 */
import { existsSync } from "node:fs";
import v8 from "node:v8";
import { HandlerNotFound, MalformedHandlerName } from "./errors.mjs";
import { logError, patchConsole, writeAllSync } from "./log-patch.mjs";
import { RuntimeClient } from "./runtime-client.mjs";
import { installRuntimeHooks, runAfterRestore, runBeforeSnapshot } from "./runtime-hooks.mjs";
import { Runtime } from "./runtime.mjs";
import { restoreUniqueness } from "./uniqueness.mjs";

/** Exit status of a build whose init or before-snapshot hooks failed. */
export const EXIT_BUILD_FAILED = 70;
const KILN_SOCKET = "/run/kiln/runtime.sock";

/**
 * The handler named by `_HANDLER` ("dir/file.a.b") on the module's exports.
 * @param {any} userModule
 * @param {string} fullHandler
 * @returns {Function}
 */
export function handlerOf(userModule, fullHandler) {
  const base = fullHandler.slice(fullHandler.lastIndexOf("/") + 1);
  const dot = base.indexOf(".");
  if (dot < 0) throw new MalformedHandlerName("Bad handler");
  const fn = base
    .slice(dot + 1)
    .split(".")
    .reduce((obj, key) => obj && obj[key], userModule);
  if (!fn) throw new HandlerNotFound(`${fullHandler} is undefined or not exported`);
  if (typeof fn !== "function") throw new HandlerNotFound(`${fullHandler} is not a function`);
  return fn;
}

/**
 * @param {() => any} loadUserModule requires the function's module (runs its init)
 * @param {string} fullHandler
 */
export function snapshot(loadUserModule, fullHandler) {
  patchConsole();
  installRuntimeHooks("snap-start");
  /** @type {Function | undefined} */
  let handler;
  const fail = (/** @type {unknown} */ err) => {
    logError("Uncaught Exception", err);
    writeAllSync(2, `kiln snapshot: the function's init failed; no snapshot is taken\n`);
    process.exit(EXIT_BUILD_FAILED);
  };
  try {
    handler = handlerOf(loadUserModule(), fullHandler);
  } catch (err) {
    fail(err);
  }
  runBeforeSnapshot().catch(fail);
  v8.startupSnapshot.setDeserializeMainFunction(() => restored(/** @type {Function} */ (handler)));
}

/** @param {Function} handler */
function restored(handler) {
  restoreUniqueness();
  const http = /** @type {typeof import("node:http")} */ (process.getBuiltinModule("node:http"));
  const client = new RuntimeClient(process.env.AWS_LAMBDA_RUNTIME_API ?? "127.0.0.1:9001", http, existsSync(KILN_SOCKET) ? KILN_SOCKET : undefined);
  const runtime = new Runtime(client);
  runtime.installProcessHandlers();
  if (process.env._KILN_SNAPSHOT_CHECK) process.exit(0);
  void (async () => {
    if (process.env._KILN_AWAIT_SPECIALIZATION) {
      // Pre-restored ahead of a cold start: become the environment Kiln assigns this sandbox to.
      const { env } = await client.specialization();
      for (const key of Object.keys(process.env)) delete process.env[key];
      Object.assign(process.env, env);
      process.chdir(env.LAMBDA_TASK_ROOT ?? "/var/task");
    }
    const h = await runtime.init(async () => {
      await runAfterRestore();
      return handler;
    });
    await runtime.loop(h);
  })();
}
