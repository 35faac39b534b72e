/**
 * One invocation of the handler: builds `context` and `callback`, calls the handler and settles
 * with exactly one outcome (first completion wins, as in the AWS runtime's CallbackContext.js).
 *
 * Completion rules (nodejs20.x, with Kiln's noted differences):
 *   - the handler throws synchronously, or the event/context cannot be parsed -> error;
 *   - it returns a thenable -> its resolution / rejection (`fail(undefined)` reports "handled");
 *   - `callback(err, result)`, `context.done`, `context.succeed`, `context.fail`;
 *   - the event loop empties first -> async handler: Runtime.NodeJsExit error; other handlers:
 *     `null` (AWS's answer when a callback handler never calls back);
 *   - Kiln: a non-callback handler (fewer than 3 parameters) that returns a plain value other
 *     than `undefined` completes with that value at once (nodejs20.x would ignore it and answer
 *     `null`; nodejs24.x awaits it, as here).
 *   - Kiln: `context.callbackWaitsForEmptyEventLoop` is accepted but treated as false: a callback
 *     result is posted immediately, without waiting for timers/sockets the function left behind.
 */
import { NodeJsExit } from "./errors.mjs";

/** @typedef {{ json: string } | { error: unknown }} Outcome */
/** @typedef {import("node:http").IncomingHttpHeaders} Headers */

/**
 * @param {Function} handler
 * @param {{headers: Headers, body: string}} next the GET /next response
 * @param {NodeJS.ProcessEnv} env
 */
export function startInvocation(handler, next, env) {
  /** @type {(o: Outcome) => void} */
  let settle = () => {};
  /** @type {Promise<Outcome>} */
  const outcome = new Promise((resolve) => (settle = resolve));
  let finished = false;

  /** @param {unknown} err @param {unknown} [result] */
  const done = (err, result) => {
    if (finished) return;
    finished = true;
    if (err !== undefined && err !== null) return settle({ error: err });
    try {
      settle({ json: JSON.stringify(result === undefined ? null : result) ?? "null" });
    } catch {
      settle({ error: new Error("Unable to stringify response body") });
    }
  };
  /** @param {unknown} err */
  const fail = (err) => done(err === undefined || err === null ? "handled" : err);
  /** @param {unknown} result */
  const succeed = (result) => done(null, result);

  let waitsForEmptyEventLoop = true;
  const callbackContext = {
    get callbackWaitsForEmptyEventLoop() {
      return waitsForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(value) {
      waitsForEmptyEventLoop = value;
    },
    succeed,
    fail,
    done,
  };

  try {
    const context = Object.assign(callbackContext, environmentData(env), headerData(next.headers));
    const result = handler(JSON.parse(next.body), context, done);
    if (result && typeof result.then === "function") {
      result.then(succeed, fail);
    } else if (handler.length < 3 && result !== undefined) {
      succeed(result);
    }
  } catch (err) {
    done(err);
  }

  return {
    outcome,
    /** Called on process 'beforeExit': nothing left to run and the handler never completed. */
    onEventLoopEmpty() {
      if (finished) return;
      if (handler.constructor?.name === "AsyncFunction") done(new NodeJsExit());
      else done(null, null);
    },
    /**
     * Claim the invocation for a fatal error (uncaught exception / unhandled rejection).
     * @returns {boolean} false if it had already completed
     */
    takeOver() {
      if (finished) return false;
      finished = true;
      return true;
    },
  };
}

/** @param {NodeJS.ProcessEnv} env */
function environmentData(env) {
  return {
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
  };
}

/** @param {Headers} headers (lower-case keys, as node:http delivers them) */
function headerData(headers) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"]);
  return {
    clientContext: parseJsonHeader(headers["lambda-runtime-client-context"], "ClientContext"),
    identity: parseJsonHeader(headers["lambda-runtime-cognito-identity"], "CognitoIdentity"),
    invokedFunctionArn: header(headers, "lambda-runtime-invoked-function-arn"),
    awsRequestId: header(headers, "lambda-runtime-aws-request-id"),
    tenantId: header(headers, "lambda-runtime-aws-tenant-id"),
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
}

/**
 * @param {Headers} headers
 * @param {string} name
 * @returns {string | undefined}
 */
export function header(headers, name) {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * @param {string | string[] | undefined} value
 * @param {string} name
 */
function parseJsonHeader(value, name) {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(String(value));
  } catch (err) {
    throw new Error(`Cannot parse ${name} as json: ${String(err)}`);
  }
}
