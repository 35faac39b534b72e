/**
 * RemoteWorkers: the frontend's and assignment's view of worker nodes over HTTP. Implements
 * WorkerFleet (create/destroy, loads from the directory) and InvokeTarget (invoke). One keep-alive
 * agent per worker URL; every request signed with the cluster secret; statuses mapped back to the
 * typed errors of errors.ts.
 *
 * Known caveats: a connection reset on a reused keep-alive socket before any response byte is
 * retried once (the server closed an idle socket); any other broken call surfaces as
 * WorkerUnreachableError, even if the worker had already run part of the invocation.
 */
import { Agent, request, type IncomingMessage } from "node:http";
import type { Clock } from "../../base/index.js";
import type { WorkerLoad } from "../../placement/index.js";
import type { EnvironmentSpec, InvocationOutcome } from "../../worker/index.js";
import { signNodeRequest } from "../auth.js";
import { EnvironmentGoneError, WorkerDrainingError, WorkerRequestError, WorkerUnreachableError } from "./errors.js";
import { H, MAX_NODE_BODY_BYTES, environmentPath, invocationHeaders, invokePath, outcomeFrom } from "./wire.js";

/** Where workers are (the WorkerDirectory). */
export interface WorkerLocator {
  urlOf(workerId: string): string | undefined;
  loads(): WorkerLoad[];
}

export interface RemoteWorkersOptions {
  directory: WorkerLocator;
  secret: string;
  clock: Clock;
  /** The key the worker counts environments under (default `${accountId}/${functionName}`, as standalone). */
  configKeyOf?: (spec: EnvironmentSpec) => string;
  /** How long a create may take before the worker counts as lost (default 60 s). */
  createTimeoutMs?: number;
  /** Added to an invocation's own timeout before the worker counts as lost (default 30 s). */
  invokeMarginMs?: number;
}

/** Idle sockets close after this (shorter than the server's keep-alive, so the client closes first). */
const IDLE_SOCKET_MS = 60_000;

interface Reply {
  status: number;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

export class RemoteWorkers {
  private readonly agents = new Map<string, Agent>();

  constructor(private readonly opts: RemoteWorkersOptions) {}

  loads(): WorkerLoad[] {
    return this.opts.directory.loads();
  }

  async createEnvironment(workerId: string, environmentId: string, spec: EnvironmentSpec): Promise<void> {
    const configKey = (this.opts.configKeyOf ?? ((s) => `${s.accountId}/${s.functionName}`))(spec);
    const body = Buffer.from(JSON.stringify({ configKey, spec }));
    const r = await this.call(workerId, "POST", environmentPath(environmentId), body, { "content-type": "application/json" }, this.opts.createTimeoutMs ?? 60_000);
    this.expect(workerId, environmentId, r, 201);
  }

  async destroyEnvironment(workerId: string, environmentId: string): Promise<void> {
    const r = await this.call(workerId, "DELETE", environmentPath(environmentId), Buffer.alloc(0), {}, 30_000);
    this.expect(workerId, environmentId, r, 204);
  }

  async invoke(
    workerId: string,
    environmentId: string,
    inv: { requestId: string; payload: Buffer; invokedArn: string; clientContext?: string; timeoutMs: number },
  ): Promise<InvocationOutcome> {
    const headers = { "content-type": "application/octet-stream", ...invocationHeaders(inv) };
    const r = await this.call(workerId, "POST", invokePath(environmentId), inv.payload, headers, inv.timeoutMs + (this.opts.invokeMarginMs ?? 30_000));
    this.expect(workerId, environmentId, r, 200);
    return outcomeFrom(r.headers, r.body);
  }

  /** GET /v1/status of one worker (`kiln cluster status`). */
  async status(workerId: string): Promise<Record<string, unknown>> {
    const r = await this.call(workerId, "GET", "/v1/status", Buffer.alloc(0), {}, 10_000);
    this.expect(workerId, "", r, 200);
    return JSON.parse(r.body.toString("utf8")) as Record<string, unknown>;
  }

  /** POST /v1/drain on one worker (`kiln worker drain`). */
  async drain(workerId: string): Promise<void> {
    const r = await this.call(workerId, "POST", "/v1/drain", Buffer.alloc(0), {}, 10_000);
    this.expect(workerId, "", r, 202);
  }

  close(): void {
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }

  private expect(workerId: string, environmentId: string, r: Reply, ok: number): void {
    if (r.status === ok) return;
    let code = String(r.headers[H.errorCode] ?? "");
    let message = r.body.toString("utf8").slice(0, 2048);
    try {
      const e = JSON.parse(message) as { code?: string; message?: string };
      code = e.code ?? code;
      message = e.message ?? message;
    } catch {
      /* not JSON: keep the raw text */
    }
    if (r.status === 410) throw new EnvironmentGoneError(workerId, environmentId);
    if (r.status === 503 && code === "WorkerDraining") throw new WorkerDrainingError(workerId);
    throw new WorkerRequestError(workerId, r.status, code || "Unknown", message);
  }

  private agentFor(url: string): Agent {
    let a = this.agents.get(url);
    if (!a) {
      a = new Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS, scheduling: "lifo" });
      this.agents.set(url, a);
    }
    return a;
  }

  private async call(workerId: string, method: string, path: string, body: Buffer, headers: Record<string, string>, timeoutMs: number): Promise<Reply> {
    const base = this.opts.directory.urlOf(workerId);
    if (!base) throw new WorkerUnreachableError(workerId, "it is not in the worker directory: its heartbeat expired or it deregistered");
    try {
      return await this.once(base, method, path, body, headers, timeoutMs);
    } catch (e) {
      if (e instanceof StaleSocketError) {
        try {
          return await this.once(base, method, path, body, headers, timeoutMs);
        } catch (again) {
          throw this.lost(workerId, base, again instanceof StaleSocketError ? again.cause : again);
        }
      }
      throw this.lost(workerId, base, e);
    }
  }

  private lost(workerId: string, base: string, e: unknown): Error {
    if (e instanceof TimeoutError) return new WorkerUnreachableError(workerId, `no answer from ${base} within ${e.ms} ms`, { cause: e });
    const code = (e as { code?: string }).code ?? (e instanceof Error ? e.message : String(e));
    return new WorkerUnreachableError(workerId, `${code} talking to ${base}`, { cause: e });
  }

  private once(base: string, method: string, path: string, body: Buffer, headers: Record<string, string>, timeoutMs: number): Promise<Reply> {
    const url = new URL(path, base);
    const signed = signNodeRequest(this.opts.secret, { method, path, body, headers }, this.opts.clock.now());
    return new Promise<Reply>((resolve, reject) => {
      let answered = false;
      const req = request(url, { method, agent: this.agentFor(base), headers: { ...headers, ...signed, "content-length": String(body.length) } }, (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > MAX_NODE_BODY_BYTES) {
            req.destroy(new Error(`response body exceeds ${MAX_NODE_BODY_BYTES} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
        res.on("aborted", () => reject(Object.assign(new Error("the response was cut off"), { code: "ECONNRESET" })));
      });
      req.setTimeout(timeoutMs, () => req.destroy(new TimeoutError(timeoutMs)));
      req.on("error", (e: NodeJS.ErrnoException) => {
        if (!answered && req.reusedSocket && e.code === "ECONNRESET") reject(new StaleSocketError(e));
        else reject(e);
      });
      req.end(body);
    });
  }
}

class StaleSocketError extends Error {
  constructor(override readonly cause: unknown) {
    super("a reused keep-alive socket was reset");
  }
}

class TimeoutError extends Error {
  constructor(readonly ms: number) {
    super(`no answer within ${ms} ms`);
  }
}
