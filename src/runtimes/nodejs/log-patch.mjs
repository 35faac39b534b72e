/**
 * Console patching: every console call becomes ONE text record on stdout,
 *
 *   <ISO timestamp>\t<request id>\t<LEVEL>\t<util.format(...args)>\n
 *
 * as the nodejs20.x runtime writes them (LogPatch.js, text format). Levels: log/info -> INFO,
 * warn -> WARN, error -> ERROR, debug -> DEBUG, trace -> TRACE (no stack, as on AWS), fatal -> FATAL.
 * Before the first invocation the request id field is the literal `undefined`; after an
 * invocation it keeps that invocation's id until the next one starts (as on AWS).
 *
 * Divergence: AWS replaces `\n` inside a record with `\r`; Kiln keeps `\n` (the platform reads
 * stdout as a byte stream, not as framed records).
 *
 * Writes are synchronous (fs.writeSync on fd 1), so a record is in the pipe before the
 * invocation's response is posted and the platform can order logs before END.
 */
import { writeSync } from "node:fs";
import { format } from "node:util";
import { intoError, toFormatted } from "./errors.mjs";

/** @type {string | undefined} */
let currentRequestId;

/** @param {string | undefined} id */
export function setCurrentRequestId(id) {
  currentRequestId = id;
}

/** For Atomics.wait; made on first use (a V8 snapshot builder has no SharedArrayBuffer). @type {Int32Array | undefined} */
let sleepCell;

/**
 * Write all of `text` to `fd`, waiting out EAGAIN when the fd is a full non-blocking pipe.
 * @param {number} fd
 * @param {string} text
 */
export function writeAllSync(fd, text) {
  let buf = Buffer.from(text, "utf8");
  while (buf.length > 0) {
    try {
      const n = writeSync(fd, buf);
      buf = buf.subarray(n);
    } catch (err) {
      if (/** @type {NodeJS.ErrnoException} */ (err).code !== "EAGAIN") throw err;
      sleepCell ??= new Int32Array(new SharedArrayBuffer(4));
      Atomics.wait(sleepCell, 0, 0, 1);
    }
  }
}

/**
 * @param {string} level
 * @param {unknown[]} args
 */
function logRecord(level, args) {
  writeAllSync(1, `${new Date().toISOString()}\t${currentRequestId}\t${level}\t${format(...args)}\n`);
}

/** Replace the console methods; call once, before the function's code is loaded. */
export function patchConsole() {
  /** @param {string} level */
  const logger = (level) => (/** @type {unknown[]} */ ...args) => logRecord(level, args);
  console.trace = logger("TRACE");
  console.debug = logger("DEBUG");
  console.info = logger("INFO");
  console.log = console.info;
  console.warn = logger("WARN");
  console.error = logger("ERROR");
  /** @type {any} */ (console).fatal = logger("FATAL");
}

/**
 * Log a runtime-detected error as AWS does: `ERROR\t<label> \t{"errorType":...,"stack":[...]}`.
 * @param {string} label e.g. "Invoke Error", "Uncaught Exception"
 * @param {unknown} err
 */
export function logError(label, err) {
  logRecord("ERROR", [label, toFormatted(intoError(err))]);
}
