/**
 * Errors the Node.js runtime reports, and their wire shapes.
 *
 * Mirrors aws-lambda-nodejs-runtime-interface-client v3 (the nodejs20.x runtime):
 * runtime-detected failures are Error subclasses whose `name` is `Runtime.<Class>`, and every
 * error posted to the Runtime API is `{errorType, errorMessage, trace}` (`toRapidResponse`).
 * Log lines embed errors as `\t` + JSON with `errorType`, `errorMessage`, any enumerable
 * properties and `stack` as an array of lines (`toFormatted`).
 */

/** @typedef {{errorType: string, errorMessage: string, trace: string[]}} RapidError */

export class ImportModuleError extends Error {}
export class HandlerNotFound extends Error {}
export class MalformedHandlerName extends Error {}
export class UserCodeSyntaxError extends Error {}
/** The event loop emptied while an async handler's promise was still pending. */
export class NodeJsExit extends Error {
  constructor() {
    super("Error: Runtime exited without providing a reason");
  }
}
export class UnhandledPromiseRejection extends Error {
  /**
   * @param {unknown} reason
   * @param {Promise<unknown>} promise
   */
  constructor(reason, promise) {
    super(String(reason));
    this.reason = reason;
    this.promise = promise;
  }
}

for (const cls of [ImportModuleError, HandlerNotFound, MalformedHandlerName, UserCodeSyntaxError, NodeJsExit, UnhandledPromiseRejection]) {
  cls.prototype.name = `Runtime.${cls.name}`;
}

/**
 * @param {any} obj
 * @returns {boolean} true for Error-like objects (name, message and stack are strings)
 */
function isErrorLike(obj) {
  return Boolean(obj) && typeof obj.name === "string" && typeof obj.message === "string" && typeof obj.stack === "string";
}

/**
 * The body of POST /runtime/invocation/{id}/error and /runtime/init/error.
 * Non-errors keep AWS's shape: `callback("boom")` reports errorType "string", errorMessage "boom".
 * @param {unknown} error
 * @returns {RapidError}
 */
export function toRapidResponse(error) {
  try {
    if (error instanceof Error || isErrorLike(error)) {
      const e = /** @type {Error} */ (error);
      return { errorType: e.name, errorMessage: e.message, trace: String(e.stack).split("\n") };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch {
    return {
      errorType: "handled",
      errorMessage: "callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack",
      trace: [],
    };
  }
}

/**
 * @param {unknown} err
 * @returns {Error}
 */
export function intoError(err) {
  return err instanceof Error ? err : new Error(/** @type {any} */ (err));
}

/**
 * @param {unknown} value
 * @returns {unknown}
 */
function withEnumerableProperties(value) {
  if (!(value instanceof Error)) return value;
  /** @type {Record<string, unknown>} */
  const ret = Object.assign(/** @type {Record<string, unknown>} */ ({}), { errorType: value.name, errorMessage: value.message, code: /** @type {any} */ (value).code }, value);
  if (typeof value.stack === "string") ret.stack = value.stack.split("\n");
  return ret;
}

/**
 * The error as it appears in a log line ("Invoke Error \t{...}"); always starts with a tab.
 * @param {Error} error
 * @returns {string}
 */
export function toFormatted(error) {
  try {
    return "\t" + JSON.stringify(error, (_k, v) => withEnumerableProperties(v));
  } catch {
    return "\t" + JSON.stringify(toRapidResponse(error));
  }
}
