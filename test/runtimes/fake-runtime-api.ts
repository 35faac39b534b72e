/**
 * Test harness for the in-sandbox runtimes: a minimal Runtime API 2018-06-01 server (node:http on
 * an ephemeral 127.0.0.1 port) and a launcher that starts a runtime as a plain child process with
 * an environment built from scratch (never process.env: NODE_EXTRA_CA_CERTS alone slows node's
 * start by ~60 ms). Only what the runtime tests need; the platform's real Runtime API lives in
 * src/runtime-api.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const NODE_BOOTSTRAP = fileURLToPath(new URL("../../../src/runtimes/nodejs/bootstrap.mjs", import.meta.url));
export const PYTHON_BOOTSTRAP = fileURLToPath(new URL("../../../src/runtimes/python/bootstrap.py", import.meta.url));
export const PYTHON = "/usr/bin/python3.11";
const PREFIX = "/2018-06-01/runtime";

export interface InvokeOptions {
  requestId?: string;
  timeoutMs?: number;
  traceId?: string;
  clientContext?: unknown;
  identity?: unknown;
  functionArn?: string;
}

export interface InvokeResult {
  kind: "response" | "error";
  requestId: string;
  body: string;
  /** Lambda-Runtime-Function-Error-Type of an error post. */
  errorType: string | undefined;
  /** Deadline sent in Lambda-Runtime-Deadline-Ms. */
  deadlineMs: number;
}

export interface InitError {
  body: string;
  errorType: string | undefined;
}

interface Queued {
  requestId: string;
  body: string;
  headers: Record<string, string>;
}

export interface FakeApiOptions {
  /** How long the server keeps an idle connection open (node's default: 5 s, plus 1 s of grace). */
  keepAliveTimeoutMs?: number;
  /** Accept and at once drop connections for this long after construction (a relay whose API is not up yet). */
  resetConnectionsForMs?: number;
}

export class FakeRuntimeApi {
  readonly server: http.Server;
  /** Performance.now() of the first GET /next. */
  firstNextAt: number | undefined;
  connections = 0;
  readonly initError: Promise<InitError>;
  private resolveInitError!: (e: InitError) => void;
  private rejectInitError!: (err: Error) => void;
  private readonly queue: Queued[] = [];
  private waiting: ServerResponse | undefined;
  private readonly pending = new Map<string, { resolve: (r: InvokeResult) => void; reject: (err: Error) => void; deadlineMs: number }>();

  constructor(opts: FakeApiOptions = {}) {
    this.initError = new Promise((resolve, reject) => {
      this.resolveInitError = resolve;
      this.rejectInitError = reject;
    });
    this.initError.catch(() => {}); // rejected only by failPending(); awaiting it still sees the error
    this.server = http.createServer((req, res) => this.route(req, res));
    if (opts.keepAliveTimeoutMs !== undefined) this.server.keepAliveTimeout = opts.keepAliveTimeoutMs;
    const resetUntil = performance.now() + (opts.resetConnectionsForMs ?? 0);
    this.server.on("connection", (socket: Socket) => {
      if (performance.now() < resetUntil) return socket.destroy();
      this.connections++;
    });
  }

  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(port, "127.0.0.1", resolve));
    return (this.server.address() as AddressInfo).port;
  }

  close(): void {
    this.server.closeAllConnections();
    this.server.close();
  }

  /** Queue an event; resolves when the runtime posts its response or error. */
  invoke(event: unknown, opts: InvokeOptions = {}): Promise<InvokeResult> {
    const requestId = opts.requestId ?? randomUUID();
    const deadlineMs = Date.now() + (opts.timeoutMs ?? 3000);
    const headers: Record<string, string> = {
      "Content-Type": "application/json",
      "Lambda-Runtime-Aws-Request-Id": requestId,
      "Lambda-Runtime-Deadline-Ms": String(deadlineMs),
      "Lambda-Runtime-Invoked-Function-Arn": opts.functionArn ?? "arn:aws:lambda:us-east-1:123456789012:function:fn",
    };
    if (opts.traceId !== undefined) headers["Lambda-Runtime-Trace-Id"] = opts.traceId;
    if (opts.clientContext !== undefined) headers["Lambda-Runtime-Client-Context"] = JSON.stringify(opts.clientContext);
    if (opts.identity !== undefined) headers["Lambda-Runtime-Cognito-Identity"] = JSON.stringify(opts.identity);
    const result = new Promise<InvokeResult>((resolve, reject) => this.pending.set(requestId, { resolve, reject, deadlineMs }));
    this.queue.push({ requestId, body: JSON.stringify(event), headers });
    this.dispatch();
    return result;
  }

  /** Fail every invocation still waiting (and the init error): the runtime is gone. */
  failPending(reason: string): void {
    for (const p of this.pending.values()) p.reject(new Error(reason));
    this.pending.clear();
    this.rejectInitError(new Error(reason));
  }

  private dispatch(): void {
    const res = this.waiting;
    const next = this.queue[0];
    if (!res || !next) return;
    this.queue.shift();
    this.waiting = undefined;
    res.writeHead(200, next.headers);
    res.end(next.body);
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const errorType = req.headers["lambda-runtime-function-error-type"];
      const url = req.url ?? "";
      if (req.method === "GET" && url === `${PREFIX}/invocation/next`) {
        this.firstNextAt ??= performance.now();
        this.waiting = res;
        this.dispatch();
        return;
      }
      if (req.method === "POST" && url === `${PREFIX}/init/error`) {
        this.resolveInitError({ body, errorType: typeof errorType === "string" ? errorType : undefined });
        return accepted(res);
      }
      const m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
      const id = m?.[1] !== undefined ? decodeURIComponent(m[1]) : undefined;
      const pending = id !== undefined ? this.pending.get(id) : undefined;
      if (req.method === "POST" && m && id !== undefined && pending) {
        this.pending.delete(id);
        pending.resolve({
          kind: m[2] === "error" ? "error" : "response",
          requestId: id,
          body,
          errorType: typeof errorType === "string" ? errorType : undefined,
          deadlineMs: pending.deadlineMs,
        });
        return accepted(res);
      }
      res.writeHead(400, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ errorMessage: "Invalid request ID", errorType: "InvalidRequestID" }));
    });
  }
}

function accepted(res: ServerResponse): void {
  res.writeHead(202, { "Content-Type": "application/json" });
  res.end('{"status":"OK"}');
}

/** A scratch /var/task: writes `files` (relative path -> contents) into a new temp dir. */
export function makeTaskDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "kiln-runtime-task-"));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

export interface RunningRuntime {
  child: ChildProcess;
  /** performance.now() just before spawn. */
  spawnedAt: number;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once stdout contains `text` (logs travel through a pipe, so they may lag the POST). */
  waitForStdout(text: string, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

export interface StartOptions {
  runtime: "nodejs" | "python";
  taskDir: string;
  handler: string;
  apiAddress: string;
  env?: Record<string, string>;
}

/** The environment the platform builds (docs/lambda-compat.md §3), with nothing from the host. */
export function runtimeEnv(o: StartOptions): Record<string, string> {
  return {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    LANG: "en_US.UTF-8",
    TZ: ":UTC",
    _HANDLER: o.handler,
    LAMBDA_TASK_ROOT: o.taskDir,
    LAMBDA_RUNTIME_DIR: "/var/runtime",
    AWS_LAMBDA_RUNTIME_API: o.apiAddress,
    AWS_LAMBDA_FUNCTION_NAME: "fn",
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "256",
    AWS_LAMBDA_LOG_GROUP_NAME: "/aws/lambda/fn",
    AWS_LAMBDA_LOG_STREAM_NAME: "2024/01/02/[$LATEST]0123456789abcdef",
    AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
    AWS_REGION: "us-east-1",
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_EXECUTION_ENV: o.runtime === "nodejs" ? "AWS_Lambda_nodejs20.x" : "AWS_Lambda_python3.11",
    ...o.env,
  };
}

export function startRuntime(o: StartOptions): RunningRuntime {
  const [cmd, args] = o.runtime === "nodejs" ? [process.execPath, [NODE_BOOTSTRAP]] : [PYTHON, [PYTHON_BOOTSTRAP]];
  const spawnedAt = performance.now();
  const child = spawn(cmd, args, { cwd: o.taskDir, env: runtimeEnv(o), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  const watchers = new Set<() => void>();
  child.stdout?.setEncoding("utf8").on("data", (s: string) => {
    out += s;
    for (const w of watchers) w();
  });
  child.stderr?.setEncoding("utf8").on("data", (s: string) => (err += s));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    spawnedAt,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForStdout(text, timeoutMs = 2000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!out.includes(text)) return;
          watchers.delete(check);
          clearTimeout(timer);
          resolve(out);
        };
        const timer = setTimeout(() => {
          watchers.delete(check);
          reject(new Error(`stdout never contained ${JSON.stringify(text)}; stdout:\n${out}\nstderr:\n${err}`));
        }, timeoutMs);
        watchers.add(check);
        check();
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

/** One runtime against one fake API, torn down by `close()`. */
export interface Session {
  api: FakeRuntimeApi;
  rt: RunningRuntime;
  close(): Promise<void>;
}

export async function startSession(
  runtime: "nodejs" | "python",
  files: Record<string, string>,
  handler: string,
  opts: { env?: Record<string, string>; api?: FakeApiOptions } = {},
): Promise<Session> {
  const { env } = opts;
  const api = new FakeRuntimeApi(opts.api);
  const port = await api.listen();
  const taskDir = makeTaskDir(files);
  const rt = startRuntime({ runtime, taskDir, handler, apiAddress: `127.0.0.1:${port}`, ...(env ? { env } : {}) });
  void rt.exited.then(({ code, signal }) => api.failPending(`the runtime exited (code ${code}, signal ${signal})`));
  return {
    api,
    rt,
    async close() {
      await rt.stop();
      api.close();
      rmSync(taskDir, { recursive: true, force: true });
    },
  };
}
