/**
 * WorkerServer: the HTTP face of a worker node (node:http, keep-alive). Every request must be
 * signed with the cluster secret (../auth.ts); payloads arrive and leave as raw bodies of up to
 * Lambda's 6 MB. Thin: parses, verifies, calls LocalWorker, maps errors (routes in wire.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Clock, Logger } from "../../base/index.js";
import type { EnvironmentSpec } from "../../worker/index.js";
import { NodeAuthError, verifyNodeRequest } from "../auth.js";
import { EnvironmentGoneError, WorkerDrainingError } from "./errors.js";
import type { LocalWorker } from "./local.js";
import { H, MAX_NODE_BODY_BYTES, invocationFrom, outcomeHeaders } from "./wire.js";

export interface WorkerServerOptions {
  local: LocalWorker;
  /** The cluster secret every node shares. */
  secret: string;
  clock: Clock;
  log: Logger;
  /** Re-resolves a spec's host paths (codeDir, layerDirs, snapshot.blob) on this machine. */
  localize(spec: EnvironmentSpec): Promise<EnvironmentSpec>;
  /** Extra facts for GET /v1/status (the lease). */
  status?: () => Record<string, unknown>;
  /** POST /v1/drain: start draining (the lifetime decides what follows). */
  drain?: () => void;
}

class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

const ENV_ROUTE = /^\/v1\/environments\/([^/]+)(\/invoke)?$/;

export class WorkerServer {
  private readonly server: Server;
  private address: string | undefined;

  constructor(private readonly opts: WorkerServerOptions) {
    this.server = createServer((req, res) => void this.handle(req, res));
    // Longer than the client agents' idle socket timeout (client.ts), so the client closes first.
    this.server.keepAliveTimeout = 65_000;
    this.server.headersTimeout = 66_000;
    this.server.requestTimeout = 0; // invocations run up to 15 minutes
  }

  /** Binds host:port (port 0: any free port); resolves to the base URL. */
  async listen(port: number, host = "127.0.0.1"): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    const a = this.server.address() as AddressInfo;
    const h = a.family === "IPv6" ? `[${a.address}]` : a.address;
    this.address = `http://${h}:${a.port}`;
    return this.address;
  }

  get url(): string {
    if (!this.address) throw new Error("the worker server is not listening");
    return this.address;
  }

  /** Stops accepting; idle keep-alive connections close now, busy ones after their response (or after `graceMs`). */
  async close(graceMs = 5_000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const timer = setTimeout(() => this.server.closeAllConnections(), graceMs);
    await closed;
    clearTimeout(timer);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const body = await readBody(req);
      const path = req.url ?? "/";
      verifyNodeRequest(this.opts.secret, { method: req.method ?? "GET", path, body, headers: req.headers }, this.opts.clock.now());
      await this.route(req.method ?? "GET", new URL(path, "http://worker").pathname, req, body, res);
    } catch (e) {
      this.fail(res, e);
    }
  }

  private async route(method: string, pathname: string, req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    const { local } = this.opts;
    if (pathname === "/v1/status" && method === "GET") {
      return json(res, 200, { id: local.id, state: local.state, load: local.summary(), environments: local.worker.environments(), ...this.opts.status?.() });
    }
    if (pathname === "/v1/drain" && method === "POST") {
      if (!this.opts.drain) throw new HttpError(404, "NotFound", "this worker node has no lifetime to drain");
      this.opts.drain();
      return json(res, 202, { id: local.id, state: "draining" });
    }
    const m = ENV_ROUTE.exec(pathname);
    if (!m) throw new HttpError(404, "NotFound", `no route ${method} ${pathname}`);
    const id = decodeURIComponent(m[1]!);
    if (m[2]) {
      if (method !== "POST") throw new HttpError(405, "MethodNotAllowed", `${method} is not allowed on ${pathname}`);
      const inv = invocationFrom(req.headers, body);
      if (typeof inv === "string") throw new HttpError(400, "BadRequest", inv);
      const outcome = await local.invoke(id, inv);
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": outcome.payload.length, ...outcomeHeaders(outcome) });
      res.end(outcome.payload);
      return;
    }
    if (method === "DELETE") {
      await local.destroyEnvironment(id);
      res.writeHead(204).end();
      return;
    }
    if (method === "POST") {
      const { configKey, spec } = parseCreate(body);
      const localized = await this.opts.localize(spec);
      await local.createEnvironment(id, configKey, localized);
      return json(res, 201, { id, configKey });
    }
    throw new HttpError(405, "MethodNotAllowed", `${method} is not allowed on ${pathname}`);
  }

  private fail(res: ServerResponse, e: unknown): void {
    const [status, code, message] =
      e instanceof HttpError
        ? [e.status, e.code, e.message]
        : e instanceof NodeAuthError
          ? [e.status, e.code, e.message]
          : e instanceof EnvironmentGoneError
            ? [410, e.code, e.message]
            : e instanceof WorkerDrainingError
              ? [503, e.code, e.message]
              : [500, "WorkerError", e instanceof Error ? e.message : String(e)];
    if (status === 500) this.opts.log.warn("worker node request failed", { error: message });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    json(res, status, { code, message }, { [H.errorCode]: code });
  }
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { "content-type": "application/json", "content-length": data.length, ...headers });
  res.end(data);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > MAX_NODE_BODY_BYTES) {
    req.resume();
    return Promise.reject(new HttpError(413, "PayloadTooLarge", `request body of ${declared} bytes exceeds ${MAX_NODE_BODY_BYTES}`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_NODE_BODY_BYTES) {
        req.removeAllListeners("data");
        req.resume();
        reject(new HttpError(413, "PayloadTooLarge", `request body exceeds ${MAX_NODE_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function parseCreate(body: Buffer): { configKey: string; spec: EnvironmentSpec } {
  let v: unknown;
  try {
    v = JSON.parse(body.toString("utf8"));
  } catch {
    throw new HttpError(400, "BadRequest", "the body must be JSON {configKey, spec}");
  }
  const o = v as { configKey?: unknown; spec?: Partial<EnvironmentSpec> };
  const s = o?.spec;
  if (typeof o?.configKey !== "string" || typeof s !== "object" || s === null) throw new HttpError(400, "BadRequest", "the body must be JSON {configKey, spec}");
  if (typeof s.codeSha256 !== "string" || typeof s.runtime !== "string" || typeof s.handler !== "string" || typeof s.memoryMB !== "number") {
    throw new HttpError(400, "BadRequest", "spec needs codeSha256, runtime, handler and memoryMB");
  }
  return { configKey: o.configKey, spec: s as EnvironmentSpec };
}
