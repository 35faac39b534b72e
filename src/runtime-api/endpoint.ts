/**
 * One sandbox's Runtime API (2018-06-01), served on a unix socket the sandbox sees as
 * 127.0.0.1:9001. The worker hands an invocation over with `deliver()`; the runtime collects it
 * with `GET /runtime/invocation/next` and answers with `/response` or `/error`.
 *
 * State: the runtime is either waiting on /next (`parkedNext`) or working; at most one
 * invocation is outstanding (`current`). A call in the wrong state gets the Runtime API's own
 * errors (400 InvalidRequestID, 403 InvalidStateTransition).
 *
 * Kiln-private: a pre-initialized sandbox's runtime boots with no function and asks
 * `GET /kiln/2025-01-01/specialization` (SPECIALIZATION_PATH), which blocks until the worker calls
 * `specialize()`: the answer is the function's environment (JSON `{"env": {...}}`), the moment to
 * load its handler; for Kiln's exec launcher also the command to exec (`"argv": [...]`). The path answers once, and only on endpoints created with `{ pooled: true }`;
 * everywhere else, and for a second ask, it is 404 like any unknown path.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { rm } from "node:fs/promises";

/** Responses larger than this are refused (6 MiB + 100 bytes, as AWS enforces). */
export const MAX_RESPONSE_BYTES = 6_291_556;

export interface InvocationRequest {
  requestId: string;
  payload: Buffer;
  deadlineMs: number;
  invokedFunctionArn: string;
  traceId: string;
  clientContext?: string;
}

export type RuntimeOutcome =
  | { kind: "response"; payload: Buffer }
  | { kind: "error"; payload: Buffer; errorType: string }
  | { kind: "response-too-large" };

export interface EndpointEvents {
  /** The runtime asked for work (first time = init done). */
  onNext(): void;
  /** The runtime reported an init failure (it exits afterwards). */
  onInitError(errorType: string, payload: Buffer): void;
  /** A pre-initialized runtime is booted and waits for its function (pooled endpoints only). */
  onAwaitingSpecialization?(): void;
}

/** The Kiln-private path a pre-initialized runtime waits on. */
export const SPECIALIZATION_PATH = "/kiln/2025-01-01/specialization";

export interface EndpointOptions {
  /** Serve SPECIALIZATION_PATH (the endpoint of a pre-initialized sandbox). */
  pooled?: boolean;
}

interface Current {
  inv: InvocationRequest;
  delivered: boolean;
  resolve: (o: RuntimeOutcome) => void;
}

const PREFIX = "/2018-06-01/runtime/";

export class RuntimeApiEndpoint {
  private readonly server: Server;
  private parkedNext: ServerResponse | undefined;
  private current: Current | undefined;
  private closed = false;
  /** Pooled endpoints: "waiting" until the runtime asks, then answered once. */
  private specialization: { state: "unasked" | "parked" | "answered"; res?: ServerResponse; body?: Buffer } | undefined;

  constructor(readonly socketPath: string, private events: EndpointEvents, options: EndpointOptions = {}) {
    if (options.pooled) this.specialization = { state: "unasked" };
    this.server = createServer({ requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 24 * 3600_000 }, (req, res) => this.route(req, res));
    this.server.keepAliveTimeout = 24 * 3600_000;
  }

  async listen(): Promise<void> {
    await rm(this.socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.socketPath, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
  }

  /** Routes this endpoint's events elsewhere (a pooled sandbox's endpoint, once adopted by an environment). */
  attach(events: EndpointEvents): void {
    this.events = events;
  }

  /** True once a pooled runtime is parked on the specialization path. */
  get awaitingSpecialization(): boolean {
    return this.specialization?.state === "parked";
  }

  /**
   * Answers the pooled runtime's specialization request with `env` (and, for the exec launcher, the
   * `argv` to exec), now or as soon as it asks.
   * Resolves once the answer is written; rejects when this endpoint is not pooled, was already
   * specialized, or the runtime's request went away.
   */
  specialize(env: Record<string, string>, argv?: string[]): Promise<void> {
    const s = this.specialization;
    if (s === undefined || s.body !== undefined) return Promise.reject(new Error("this Runtime API endpoint cannot be specialized (again)"));
    s.body = Buffer.from(JSON.stringify(argv ? { env, argv } : { env }));
    if (s.state === "parked" && s.res) return this.answerSpecialization(s.res);
    return Promise.resolve();
  }

  private answerSpecialization(res: ServerResponse): Promise<void> {
    const s = this.specialization!;
    s.state = "answered";
    s.res = undefined;
    const body = s.body!;
    return new Promise((resolve, reject) => {
      if (res.destroyed) return reject(new Error("the runtime's specialization request went away"));
      res.writeHead(200, { "Content-Type": "application/json", "Content-Length": body.length });
      res.end(body, () => resolve());
      res.once("close", () => (res.writableFinished ? resolve() : reject(new Error("the runtime's specialization request went away"))));
    });
  }

  /** Hands an invocation to the runtime; resolves with the runtime's answer. */
  deliver(inv: InvocationRequest): Promise<RuntimeOutcome> {
    if (this.current) throw new Error("an invocation is already outstanding in this sandbox");
    return new Promise((resolve) => {
      this.current = { inv, delivered: false, resolve };
      if (this.parkedNext) {
        const res = this.parkedNext;
        this.parkedNext = undefined;
        this.sendInvocation(res);
      }
    });
  }

  /** Forgets the outstanding invocation (timeout, crash): late answers for it are refused. */
  abandon(): void {
    this.current = undefined;
    if (this.parkedNext) {
      this.parkedNext.destroy();
      this.parkedNext = undefined;
    }
  }

  get waitingForWork(): boolean {
    return this.parkedNext !== undefined && this.current === undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.abandon();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.socketPath, { force: true });
  }

  private sendInvocation(res: ServerResponse): void {
    const cur = this.current!;
    cur.delivered = true;
    const headers: Record<string, string | number> = {
      "Content-Type": "application/json",
      "Content-Length": cur.inv.payload.length,
      "Lambda-Runtime-Aws-Request-Id": cur.inv.requestId,
      "Lambda-Runtime-Deadline-Ms": String(cur.inv.deadlineMs),
      "Lambda-Runtime-Invoked-Function-Arn": cur.inv.invokedFunctionArn,
      "Lambda-Runtime-Trace-Id": cur.inv.traceId,
    };
    if (cur.inv.clientContext) headers["Lambda-Runtime-Client-Context"] = cur.inv.clientContext;
    res.writeHead(200, headers);
    res.end(cur.inv.payload);
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? "";
    if (req.method === "GET" && url === PREFIX + "invocation/next") return this.next(req, res);
    if (req.method === "GET" && url === SPECIALIZATION_PATH && this.specialization !== undefined && this.specialization.state !== "answered") return this.awaitSpecialization(req, res);
    if (req.method === "POST" && url === PREFIX + "init/error") return this.initError(req, res);
    if (req.method === "POST" && url.startsWith(PREFIX + "invocation/")) {
      const rest = url.slice((PREFIX + "invocation/").length);
      const slash = rest.lastIndexOf("/");
      const id = decodeURIComponent(rest.slice(0, slash));
      const action = rest.slice(slash + 1);
      if (action === "response" || action === "error") return this.answer(req, res, id, action);
    }
    req.resume();
    reply(res, 404, { errorType: "InvalidRequest", errorMessage: `Unknown Runtime API path: ${req.method} ${url}` });
  }

  private awaitSpecialization(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    const s = this.specialization!;
    if (this.closed || s.state === "parked") return void res.destroy();
    if (s.body !== undefined) return void this.answerSpecialization(res).catch(() => undefined);
    s.state = "parked";
    s.res = res;
    res.on("close", () => {
      if (s.res === res) {
        s.res = undefined;
        s.state = "unasked";
      }
    });
    this.events.onAwaitingSpecialization?.();
  }

  private next(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    if (this.closed) return void res.destroy();
    if (this.current && this.current.delivered) {
      // The runtime asks for more work without answering the last one: AWS treats this as the
      // runtime giving up on it; the invocation is failed by the worker (as a crash would be).
    }
    this.parkedNext?.destroy();
    this.parkedNext = res;
    res.on("close", () => {
      if (this.parkedNext === res) this.parkedNext = undefined;
    });
    this.events.onNext();
    if (this.current && !this.current.delivered && this.parkedNext === res) {
      this.parkedNext = undefined;
      this.sendInvocation(res);
    }
  }

  private answer(req: IncomingMessage, res: ServerResponse, id: string, action: "response" | "error"): void {
    const cur = this.current;
    if (!cur || !cur.delivered || cur.inv.requestId !== id) {
      req.resume();
      const known = cur?.inv.requestId === id;
      return reply(res, known ? 403 : 400, known
        ? { errorType: "InvalidStateTransition", errorMessage: "Invalid state transition" }
        : { errorType: "InvalidRequestID", errorMessage: "Invalid request ID" });
    }
    readBody(req, MAX_RESPONSE_BYTES).then(
      (body) => {
        if (this.current !== cur) return reply(res, 403, { errorType: "InvalidStateTransition", errorMessage: "Invalid state transition" });
        this.current = undefined;
        reply(res, 202, { status: "OK" });
        if (action === "response") cur.resolve({ kind: "response", payload: body });
        else cur.resolve({ kind: "error", payload: body, errorType: String(req.headers["lambda-runtime-function-error-type"] ?? "Unhandled") });
      },
      () => {
        if (this.current === cur) {
          this.current = undefined;
          cur.resolve({ kind: "response-too-large" });
        }
        reply(res, 413, {
          errorType: "RequestEntityTooLarge",
          errorMessage: `Exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
        }, true);
      },
    );
  }

  private initError(req: IncomingMessage, res: ServerResponse): void {
    readBody(req, MAX_RESPONSE_BYTES).then(
      (body) => {
        reply(res, 202, { status: "OK" });
        this.events.onInitError(String(req.headers["lambda-runtime-function-error-type"] ?? "Runtime.Unknown"), body);
      },
      () => reply(res, 413, { errorType: "RequestEntityTooLarge", errorMessage: "Exceeded maximum allowed payload size." }, true),
    );
  }
}

function reply(res: ServerResponse, status: number, body: object, close = false): void {
  if (res.headersSent || res.destroyed) return;
  const data = JSON.stringify(body);
  const headers: Record<string, string | number> = { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(data) };
  if (close) headers.Connection = "close";
  res.writeHead(status, headers);
  res.end(data);
}

/** Reads a request body up to `limit` bytes; rejects (and stops reading) past it. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? -1);
    if (declared > limit) {
      req.resume();
      return reject(new Error("too large"));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        reject(new Error("too large"));
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => {
      if (!failed) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.on("error", (e) => {
      if (!failed) reject(e);
    });
  });
}
