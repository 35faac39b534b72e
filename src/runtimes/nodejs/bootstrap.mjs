/**
 * The nodejs runtime: started inside a sandbox as `node /var/runtime/nodejs/bootstrap.mjs`
 * (cwd /var/task). Implements the runtime side of the Lambda Runtime API 2018-06-01 as the AWS
 * nodejs20.x runtime interface client does:
 *
 *   init:  patch console -> load _HANDLER from LAMBDA_TASK_ROOT (handler-loader.mjs); a failure is
 *          logged ("Uncaught Exception"), POSTed to /runtime/init/error, and the process exits 129.
 *   loop:  GET /runtime/invocation/next -> set the log request id and _X_AMZN_TRACE_ID -> run the
 *          handler (invocation.mjs) -> POST .../response with the JSON result, or log
 *          "Invoke Error" and POST .../error with {errorType, errorMessage, trace}.
 *   fatal: an uncaught exception (exit 129) or unhandled rejection (Runtime.UnhandledPromiseRejection,
 *          exit 128) is reported as the current invocation's error (as the init error during
 *          init), then the process exits: the platform starts a fresh runtime.
 *
 * Runs with only built-in modules and never imports host code: /var/runtime is this folder.
 * Environment: AWS_LAMBDA_RUNTIME_API, _HANDLER, LAMBDA_TASK_ROOT, AWS_LAMBDA_FUNCTION_NAME,
 * AWS_LAMBDA_FUNCTION_VERSION, AWS_LAMBDA_FUNCTION_MEMORY_SIZE, AWS_LAMBDA_LOG_GROUP_NAME,
 * AWS_LAMBDA_LOG_STREAM_NAME.
 */
import { UnhandledPromiseRejection, toRapidResponse } from "./errors.mjs";
import { loadHandler } from "./handler-loader.mjs";
import { header, startInvocation } from "./invocation.mjs";
import { logError, patchConsole, setCurrentRequestId, writeAllSync } from "./log-patch.mjs";
import { RuntimeClient } from "./runtime-client.mjs";
import { existsSync } from "node:fs";

/** Kiln's jails also expose the Runtime API as this unix socket: one hop less than AWS_LAMBDA_RUNTIME_API's bridge. */
const KILN_SOCKET = "/run/kiln/runtime.sock";

const EXIT_UNCAUGHT_EXCEPTION = 129;
const EXIT_UNHANDLED_REJECTION = 128;

patchConsole();
const client = new RuntimeClient(process.env.AWS_LAMBDA_RUNTIME_API ?? "127.0.0.1:9001", existsSync(KILN_SOCKET) ? KILN_SOCKET : undefined);

/** @type {"init" | "idle" | "invoking"} */
let phase = "init";
/** @type {string | undefined} */
let requestId;
/** @type {ReturnType<typeof startInvocation> | undefined} */
let current;
/** The response/error POST in flight, so a fatal error does not cut it off. @type {Promise<unknown>} */
let inflight = Promise.resolve();

process.on("uncaughtException", (err) => {
  logError("Uncaught Exception", err);
  void fatal(err, EXIT_UNCAUGHT_EXCEPTION);
});
process.on("unhandledRejection", (reason, promise) => {
  const err = new UnhandledPromiseRejection(reason, promise);
  logError("Unhandled Promise Rejection", err);
  void fatal(err, EXIT_UNHANDLED_REJECTION);
});
process.on("beforeExit", () => current?.onEventLoopEmpty());

/**
 * Report `err` where it belongs, then exit.
 * @param {unknown} err
 * @param {number} code
 */
async function fatal(err, code) {
  try {
    if (phase === "init") await client.postInitError(toRapidResponse(err));
    else if (phase === "invoking" && requestId !== undefined && current?.takeOver()) await client.postError(requestId, toRapidResponse(err));
    else await inflight;
  } catch (postErr) {
    writeAllSync(2, `kiln nodejs runtime: could not report error: ${String(postErr)}\n`);
  }
  process.exit(code);
}

/** @type {Function} */
let handler;
try {
  handler = await loadHandler(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), process.env._HANDLER);
} catch (err) {
  logError("Uncaught Exception", err);
  await fatal(err, EXIT_UNCAUGHT_EXCEPTION);
  throw err; // not reached: fatal() exits
}

for (;;) {
  phase = "idle";
  const next = await client.next();
  requestId = header(next.headers, "lambda-runtime-aws-request-id") ?? "";
  setCurrentRequestId(requestId);
  const traceId = header(next.headers, "lambda-runtime-trace-id");
  if (traceId) process.env._X_AMZN_TRACE_ID = traceId;
  else delete process.env._X_AMZN_TRACE_ID;

  phase = "invoking";
  current = startInvocation(handler, next, process.env);
  const outcome = await current.outcome;
  if ("json" in outcome) {
    inflight = client.postResponse(requestId, outcome.json);
  } else {
    logError("Invoke Error", outcome.error);
    inflight = client.postError(requestId, toRapidResponse(outcome.error));
  }
  await inflight;
  current = undefined;
}
