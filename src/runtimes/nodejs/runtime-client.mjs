/**
 * Client for the Lambda Runtime API 2018-06-01 at AWS_LAMBDA_RUNTIME_API ("host:port").
 *
 * One keep-alive connection (http.Agent, maxSockets 1), no timeouts: GET /next blocks until the
 * platform has an event. The API may start listening a few ms after the runtime starts, so until
 * the API has answered once, connection-refused and connection-reset (a relay such as socat that
 * is up before the API behind it) are retried with a short backoff for up to CONNECT_RETRY_MS.
 * Later, a request on a reused keep-alive socket that the server had already closed
 * (ECONNRESET, EPIPE) is retried once.
 *
 * `node:http` is passed in rather than imported: a V8 startup snapshot (SnapStart) cannot hold it
 * on Node 20, so the snapshot's main requires it after the restore.
 */

export const API_PREFIX = "/2018-06-01/runtime";
/** Kiln-private: where a pre-initialized runtime waits for its function. */
export const SPECIALIZATION_PATH = "/kiln/2025-01-01/specialization";
export const CONNECT_RETRY_MS = 2000;
const BACKOFF_MS = [2, 5, 10, 20, 40, 80, 100];
const ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type";
/** Errors of requests sent on a reused keep-alive socket (the server may have closed it meanwhile). */
const onReusedSocket = new WeakSet();

/** @typedef {import("./errors.mjs").RapidError} RapidError */
/** @typedef {typeof import("node:http")} Http */
/** @typedef {{status: number, headers: import("node:http").IncomingHttpHeaders, body: string}} ApiResponse */

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class RuntimeClient {
  /**
   * @param {string} address "host:port"
   * @param {Http} http \`node:http\`
   * @param {string} [socketPath] a unix socket serving the same API (Kiln's jails bind one at
   *   /run/kiln/runtime.sock): one hop less than the TCP bridge behind AWS_LAMBDA_RUNTIME_API
   */
  constructor(address, http, socketPath) {
    const colon = address.lastIndexOf(":");
    this.hostname = address.slice(0, colon);
    this.port = Number(address.slice(colon + 1));
    this.http = http;
    this.socketPath = socketPath;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    /** Whether the API has answered at least once (the start-up window is over). */
    this.reached = false;
  }

  /**
   * Kiln-private: wait until the platform assigns this pre-initialized runtime a function.
   * @returns {Promise<{env: Record<string, string>}>}
   */
  async specialization() {
    const res = await this.request("GET", SPECIALIZATION_PATH, {}, undefined);
    if (res.status !== 200) throw new Error(`Kiln specialization answered ${res.status}: ${res.body}`);
    const parsed = JSON.parse(res.body);
    if (typeof parsed?.env !== "object" || parsed.env === null) throw new Error("Kiln specialization carried no environment");
    return { env: parsed.env };
  }

  /**
   * Wait for the next event.
   * @returns {Promise<{headers: import("node:http").IncomingHttpHeaders, body: string}>}
   */
  async next() {
    const res = await this.request("GET", `${API_PREFIX}/invocation/next`, {}, undefined);
    if (res.status !== 200) throw new Error(`Runtime API GET /next answered ${res.status}: ${res.body}`);
    return { headers: res.headers, body: res.body };
  }

  /**
   * @param {string} requestId
   * @param {string} json the serialized result
   */
  postResponse(requestId, json) {
    return this.post(`${API_PREFIX}/invocation/${encodeURIComponent(requestId)}/response`, json, {});
  }

  /**
   * @param {string} requestId
   * @param {RapidError} error
   */
  postError(requestId, error) {
    return this.post(`${API_PREFIX}/invocation/${encodeURIComponent(requestId)}/error`, JSON.stringify(error), {
      [ERROR_TYPE_HEADER]: headerSafe(error.errorType),
    });
  }

  /** @param {RapidError} error */
  postInitError(error) {
    return this.post(`${API_PREFIX}/init/error`, JSON.stringify(error), { [ERROR_TYPE_HEADER]: headerSafe(error.errorType) });
  }

  /**
   * @param {string} path
   * @param {string} body
   * @param {Record<string, string>} headers
   */
  post(path, body, headers) {
    return this.request("POST", path, { "Content-Type": "application/json", ...headers }, Buffer.from(body, "utf8"));
  }

  /**
   * @param {string} method
   * @param {string} path
   * @param {Record<string, string>} headers
   * @param {Buffer | undefined} body
   * @returns {Promise<ApiResponse>}
   */
  async request(method, path, headers, body) {
    const giveUpAt = Date.now() + CONNECT_RETRY_MS;
    let attempt = 0;
    let resetRetried = false;
    for (;;) {
      try {
        const res = await this.once(method, path, headers, body);
        this.reached = true;
        return res;
      } catch (err) {
        const e = /** @type {NodeJS.ErrnoException} */ (err);
        const notUpYet = e.code === "ECONNREFUSED" || (e.code === "ECONNRESET" && !this.reached);
        if (notUpYet && Date.now() < giveUpAt) {
          await sleep(BACKOFF_MS[Math.min(attempt++, BACKOFF_MS.length - 1)] ?? 100);
          continue;
        }
        if ((e.code === "ECONNRESET" || e.code === "EPIPE") && onReusedSocket.has(e) && !resetRetried) {
          resetRetried = true;
          continue;
        }
        throw err;
      }
    }
  }

  /**
   * @param {string} method
   * @param {string} path
   * @param {Record<string, string>} headers
   * @param {Buffer | undefined} body
   * @returns {Promise<ApiResponse>}
   */
  once(method, path, headers, body) {
    return new Promise((resolve, reject) => {
      const req = this.http.request(
        {
          ...(this.socketPath ? { socketPath: this.socketPath } : { hostname: this.hostname, port: this.port }),
          path,
          method,
          agent: this.agent,
          headers: body ? { ...headers, "Content-Length": String(body.length) } : headers,
        },
        (res) => {
          /** @type {Buffer[]} */
          const chunks = [];
          res.on("data", (c) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
        },
      );
      req.on("error", (err) => {
        if (req.reusedSocket) onReusedSocket.add(err);
        reject(err);
      });
      req.end(body);
    });
  }
}

/**
 * Header values may not contain control characters; error names chosen by user code might.
 * @param {string} value
 */
function headerSafe(value) {
  return String(value).replace(/[^\x20-\x7e]/g, "?");
}
