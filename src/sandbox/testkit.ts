/**
 * Test fixtures for sandbox drivers (used by sandbox.case.ts, the driver tests and
 * test/sandbox/): a scratch workspace the sandbox uid can traverse, a stand-in Runtime API served
 * on a unix socket, and an events recorder. Not part of the public surface.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RuntimeName, SandboxEvents, SandboxExit, SandboxSpec } from "./contract.js";

export const MB = 1024 * 1024;

/** Polls `check` until it returns a value other than undefined/false. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface RecordedRequest {
  method: string;
  url: string;
  body: string;
  at: number;
}

/** A stand-in Runtime API on a unix socket: answers `next` with `invocation`, records everything. */
export class FakeRuntimeApi {
  readonly requests: RecordedRequest[] = [];
  /** performance.now() of each accepted connection. */
  readonly connections: number[] = [];
  invocation = '{"hello":"sandbox"}';
  private constructor(
    readonly socketPath: string,
    private readonly server: Server,
  ) {}

  static async listen(socketPath: string): Promise<FakeRuntimeApi> {
    let api: FakeRuntimeApi | undefined;
    const server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        api?.requests.push({ method: req.method ?? "", url: req.url ?? "", body: Buffer.concat(chunks).toString(), at: performance.now() });
        if (req.url?.endsWith("/invocation/next")) {
          res.writeHead(200, { "content-type": "application/json", "lambda-runtime-aws-request-id": `req-${api?.requests.length}` });
          res.end(api?.invocation);
        } else {
          res.writeHead(202, { "content-type": "application/json" });
          res.end('{"status":"OK"}');
        }
      });
    });
    server.keepAliveTimeout = 60_000;
    server.on("connection", () => api?.connections.push(performance.now()));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(socketPath, () => resolve());
    });
    api = new FakeRuntimeApi(socketPath, server);
    return api;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}

/** Records what a sandbox reports. */
export class RecordingEvents implements SandboxEvents {
  readonly chunks: Buffer[] = [];
  readonly exits: SandboxExit[] = [];
  /** How much output had arrived when each exit was reported. */
  readonly outputLengthAtExit: number[] = [];
  onOutput(chunk: Buffer): void {
    this.chunks.push(chunk);
  }
  onExit(exit: SandboxExit): void {
    this.exits.push(exit);
    this.outputLengthAtExit.push(this.output.length);
  }
  get output(): string {
    return Buffer.concat(this.chunks).toString();
  }
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray> {
    return waitFor(`output matching ${pattern} (got ${JSON.stringify(this.output.slice(-400))})`, () => pattern.exec(this.output) ?? undefined, timeoutMs);
  }
  waitForExit(timeoutMs?: number): Promise<SandboxExit> {
    return waitFor("the sandbox to exit", () => this.exits[0], timeoutMs);
  }
}

/**
 * A scratch directory tree for sandbox tests. Everything is world-traversable (0755) so the
 * sandbox uid can reach what is bound into its jail, exactly like a real data dir must be.
 */
export class Workspace {
  private n = 0;
  private constructor(readonly root: string) {}

  static async create(prefix = "kiln-sandbox-test-"): Promise<Workspace> {
    const root = await mkdtemp(join(tmpdir(), prefix));
    await chmod(root, 0o755);
    return new Workspace(root);
  }

  async dir(name: string, mode = 0o755): Promise<string> {
    const path = join(this.root, name);
    await mkdir(path, { recursive: true });
    await chmod(path, mode);
    return path;
  }

  /** Writes a file (parents created 0755). */
  async file(path: string, content: string, mode = 0o644): Promise<string> {
    const full = join(this.root, path);
    await mkdir(join(full, ".."), { recursive: true, mode: 0o755 });
    await writeFile(full, content, { mode });
    await chmod(full, mode);
    return full;
  }

  /**
   * A sandbox spec whose code dir holds an executable `bootstrap` (provided.al2023 by default),
   * with its own tmp dir and a fake Runtime API listening on its socket.
   */
  async sandbox(opts: { bootstrap?: string; runtime?: RuntimeName; memoryMB?: number; env?: Record<string, string>; codeMode?: number; layerDirs?: string[] } = {}): Promise<{ spec: SandboxSpec; api: FakeRuntimeApi; events: RecordingEvents }> {
    const id = `t${process.pid}-${++this.n}-${Date.now().toString(36)}`;
    await this.dir(id);
    const codeDir = await this.dir(`${id}/code`, opts.codeMode ?? 0o755);
    if (opts.bootstrap !== undefined) await writeFile(join(codeDir, "bootstrap"), opts.bootstrap, { mode: 0o755 });
    const tmpDir = await this.dir(`${id}/tmp`, 0o700);
    const socketDir = await this.dir(`${id}/rapi`);
    const api = await FakeRuntimeApi.listen(join(socketDir, "runtime.sock"));
    const spec: SandboxSpec = {
      id: `kiln-test-${id}`,
      runtime: opts.runtime ?? "provided.al2023",
      codeDir,
      layerDirs: opts.layerDirs ?? [],
      tmpDir,
      env: opts.env ?? lambdaEnv(),
      memoryMB: opts.memoryMB ?? 128,
      runtimeApiSocket: api.socketPath,
    };
    return { spec, api, events: new RecordingEvents() };
  }

  remove(): Promise<void> {
    return rm(this.root, { recursive: true, force: true });
  }
}

/** A Lambda-like environment, as the worker would build it. */
export function lambdaEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    AWS_LAMBDA_RUNTIME_API: "127.0.0.1:9001",
    AWS_LAMBDA_FUNCTION_NAME: "probe",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "128",
    LAMBDA_TASK_ROOT: "/var/task",
    LAMBDA_RUNTIME_DIR: "/var/runtime",
    PATH: "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
    LANG: "en_US.UTF-8",
    TZ: ":UTC",
    WITH_SPACES: "a value with spaces, 'quotes' and a\nnewline",
    ...extra,
  };
}

/** A `bootstrap` that runs Python code (the code may use `api` = the Runtime API base URL). */
export function pythonBootstrap(code: string): string {
  return `#!/usr/bin/python3.11 -u\nimport os, sys, json, urllib.request\napi = "http://" + os.environ.get("AWS_LAMBDA_RUNTIME_API", "") + "/2018-06-01/runtime"\n${code}\n`;
}

/** A `bootstrap` that runs JavaScript (CommonJS) with node, with no shell in between. */
export function nodeBootstrap(code: string): string {
  return `#!/usr/bin/node\n${code}\n`;
}

/** Whether a host pid is alive. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A stand-in Runtime API that holds each GET /next until `event()` answers it, and records the
 * bodies posted back (snapshot tests and benchmarks: init is done when the first /next arrives).
 */
export async function holdingApi(socketPath: string) {
  const nexts: ServerResponse[] = [];
  const responses: string[] = [];
  const waiters: Array<() => void> = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      if (req.url?.endsWith("/invocation/next")) nexts.push(res);
      else {
        responses.push(body);
        res.writeHead(202).end("{}");
      }
      for (const w of waiters.splice(0)) w();
    });
  });
  server.keepAliveTimeout = 600_000;
  await new Promise<void>((r) => server.listen(socketPath, () => r()));
  const until = (cond: () => boolean, ms = 300_000) =>
    new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("timed out")), ms);
      const check = () => (cond() ? (clearTimeout(t), resolve()) : waiters.push(check));
      check();
    });
  return {
    nexts,
    responses,
    waitNext: (n = 1) => until(() => nexts.length >= n),
    event(payload: string) {
      const res = nexts.shift()!;
      res.writeHead(200, { "lambda-runtime-aws-request-id": `r-${Date.now()}`, "content-type": "application/json" }).end(payload);
    },
    waitResponse: (n = 1) => until(() => responses.length >= n),
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

