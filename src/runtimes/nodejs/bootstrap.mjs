/**
 * The nodejs runtime: started inside a sandbox as `node /var/runtime/nodejs/bootstrap.mjs`
 * (cwd /var/task). Implements the runtime side of the Lambda Runtime API 2018-06-01 as the AWS
 * nodejs20.x runtime interface client does (runtime.mjs: init, the invoke loop, fatal errors):
 * patch console, install the runtime hooks global, load _HANDLER from LAMBDA_TASK_ROOT
 * (handler-loader.mjs), then serve invocations.
 *
 * Pre-initialized sandboxes (Kiln's pool): started with _KILN_AWAIT_SPECIALIZATION set, the
 * runtime holds no function yet. It asks the Kiln-private GET /kiln/2025-01-01/specialization,
 * which blocks until the platform assigns a function, then makes the process look exactly like a
 * fresh start of that function: process.env replaced by the function's environment (nothing of
 * the boot environment is left), cwd LAMBDA_TASK_ROOT, module search paths re-read from the new
 * NODE_PATH. Init then proceeds as in a fresh start; the platform's Init Duration starts at the
 * specialization.
 *
 * Runs with only built-in modules and never imports host code: /var/runtime is this folder.
 * Environment: AWS_LAMBDA_RUNTIME_API, _HANDLER, LAMBDA_TASK_ROOT, AWS_LAMBDA_FUNCTION_NAME,
 * AWS_LAMBDA_FUNCTION_VERSION, AWS_LAMBDA_FUNCTION_MEMORY_SIZE, AWS_LAMBDA_LOG_GROUP_NAME,
 * AWS_LAMBDA_LOG_STREAM_NAME.
 */
import http from "node:http";
import { createRequire } from "node:module";
import { loadHandler } from "./handler-loader.mjs";
import { patchConsole } from "./log-patch.mjs";
import { RuntimeClient } from "./runtime-client.mjs";
import { installRuntimeHooks } from "./runtime-hooks.mjs";
import { Runtime } from "./runtime.mjs";
import { existsSync } from "node:fs";

/** Kiln's jails also expose the Runtime API as this unix socket: one hop less than AWS_LAMBDA_RUNTIME_API's bridge. */
const KILN_SOCKET = "/run/kiln/runtime.sock";

patchConsole();
installRuntimeHooks();
const client = new RuntimeClient(process.env.AWS_LAMBDA_RUNTIME_API ?? "127.0.0.1:9001", http, existsSync(KILN_SOCKET) ? KILN_SOCKET : undefined);
const runtime = new Runtime(client);
runtime.installProcessHandlers();

if (process.env._KILN_AWAIT_SPECIALIZATION) {
  const { env } = await client.specialization();
  for (const key of Object.keys(process.env)) delete process.env[key];
  Object.assign(process.env, env);
  process.chdir(env.LAMBDA_TASK_ROOT ?? "/var/task");
  // Module.globalPaths was computed from the boot NODE_PATH; compute it from the function's.
  /** @type {any} */ (createRequire(import.meta.url)("node:module"))._initPaths?.();
}

const handler = await runtime.init(() => loadHandler(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), process.env._HANDLER));
await runtime.loop(handler);
