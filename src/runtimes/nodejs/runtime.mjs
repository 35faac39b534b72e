/**
 * The nodejs runtime's life after start-up, shared by the plain bootstrap (bootstrap.mjs) and the
 * SnapStart snapshot (snapshot-main.mjs):
 *
 *   init:  run `load` (import the handler, or run after-restore hooks); a failure is logged
 *          ("Uncaught Exception"), POSTed to /runtime/init/error, and the process exits 129.
 *   loop:  GET /runtime/invocation/next -> set the log request id and _X_AMZN_TRACE_ID -> run the
 *          handler (invocation.mjs) -> POST .../response with the JSON result, or log
 *          "Invoke Error" and POST .../error with {errorType, errorMessage, trace}.
 *   fatal: an uncaught exception (exit 129) or unhandled rejection (Runtime.UnhandledPromiseRejection,
 *          exit 128) is reported as the current invocation's error (as the init error during
 *          init), then the process exits: the platform starts a fresh runtime.
 *
 * Runs with only built-in modules; the Runtime API client gets `node:http` from its creator (a V8
 * startup snapshot cannot hold it on Node 20, so the snapshot requires it after the restore).
 */
import { UnhandledPromiseRejection, toRapidResponse } from "./errors.mjs";
import { header, startInvocation } from "./invocation.mjs";
import { logError, setCurrentRequestId, writeAllSync } from "./log-patch.mjs";
import { reseedAfterVmRestore } from "./uniqueness.mjs";

const EXIT_UNCAUGHT_EXCEPTION = 129;
const EXIT_UNHANDLED_REJECTION = 128;

export class Runtime {
  /** @param {import("./runtime-client.mjs").RuntimeClient} client */
  constructor(client) {
    this.client = client;
    /** @type {"init" | "idle" | "invoking"} */
    this.phase = "init";
    /** @type {string | undefined} */
    this.requestId = undefined;
    /** @type {ReturnType<typeof startInvocation> | undefined} */
    this.current = undefined;
    /** The response/error POST in flight, so a fatal error does not cut it off. @type {Promise<unknown>} */
    this.inflight = Promise.resolve();
  }

  /** Report uncaught errors where they belong, then exit; let callback handlers finish on an empty loop. */
  installProcessHandlers() {
    process.on("uncaughtException", (err) => {
      logError("Uncaught Exception", err);
      void this.fatal(err, EXIT_UNCAUGHT_EXCEPTION);
    });
    process.on("unhandledRejection", (reason, promise) => {
      const err = new UnhandledPromiseRejection(reason, promise);
      logError("Unhandled Promise Rejection", err);
      void this.fatal(err, EXIT_UNHANDLED_REJECTION);
    });
    process.on("beforeExit", () => this.current?.onEventLoopEmpty());
  }

  /**
   * @param {unknown} err
   * @param {number} code
   */
  async fatal(err, code) {
    try {
      if (this.phase === "init") await this.client.postInitError(toRapidResponse(err));
      else if (this.phase === "invoking" && this.requestId !== undefined && this.current?.takeOver()) await this.client.postError(this.requestId, toRapidResponse(err));
      else await this.inflight;
    } catch (postErr) {
      writeAllSync(2, `kiln nodejs runtime: could not report error: ${String(postErr)}\n`);
    }
    process.exit(code);
  }

  /**
   * Runs init; on failure reports it and exits (never returns then).
   * @param {() => Promise<Function>} load
   * @returns {Promise<Function>}
   */
  async init(load) {
    try {
      return await load();
    } catch (err) {
      logError("Uncaught Exception", err);
      await this.fatal(err, EXIT_UNCAUGHT_EXCEPTION);
      throw err; // not reached: fatal() exits
    }
  }

  /** @param {Function} handler */
  async loop(handler) {
    for (;;) {
      this.phase = "idle";
      const next = await this.client.next();
      // A micro-VM snapshot clone's first event (Kiln's agent marks it): reseed before the handler runs.
      if (header(next.headers, "kiln-restored")) reseedAfterVmRestore();
      const requestId = header(next.headers, "lambda-runtime-aws-request-id") ?? "";
      this.requestId = requestId;
      setCurrentRequestId(requestId);
      const traceId = header(next.headers, "lambda-runtime-trace-id");
      if (traceId) process.env._X_AMZN_TRACE_ID = traceId;
      else delete process.env._X_AMZN_TRACE_ID;

      this.phase = "invoking";
      const current = startInvocation(handler, next, process.env);
      this.current = current;
      const outcome = await current.outcome;
      if ("json" in outcome) {
        this.inflight = this.client.postResponse(requestId, outcome.json);
      } else {
        logError("Invoke Error", outcome.error);
        this.inflight = this.client.postError(requestId, toRapidResponse(outcome.error));
      }
      await this.inflight;
      this.current = undefined;
    }
  }
}
