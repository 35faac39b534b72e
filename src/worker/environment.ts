/**
 * One execution environment on this worker: a sandbox, its Runtime API endpoint, its log stream.
 *
 * Lifecycle: initializing (runtime booting) -> ready (runtime waiting on /next) <-> invoking ->
 * dead. A timeout restarts the runtime in the same sandbox (so /tmp survives) and goes back to
 * initializing; a crash, an init failure or an out-of-memory kill makes it dead.
 */
import type { Clock } from "../base/index.js";
import { RuntimeApiEndpoint, type RuntimeOutcome } from "../runtime-api/index.js";
import type { Sandbox, SandboxExit } from "../sandbox/index.js";
import { endLine, logTail, reportLine, startLine } from "./report.js";

export type EnvironmentPhase = "initializing" | "ready" | "invoking" | "dead";

export interface InvocationInput {
  requestId: string;
  payload: Buffer;
  invokedArn: string;
  clientContext?: string;
  timeoutMs: number;
}

export interface InvocationOutcome {
  payload: Buffer;
  functionError?: "Unhandled";
  /** START .. REPORT for this invocation, last 4 KB. */
  logTail: Buffer;
  /** False when the environment must not be used again. */
  healthy: boolean;
  durationMs: number;
  initDurationMs?: number;
}

export interface EnvironmentOptions {
  id: string;
  version: string;
  memoryMB: number;
  clock: Clock;
  /** Maximum time a runtime may take to initialize (Lambda: 10 s for on-demand functions). */
  initTimeoutMs: number;
  /** SnapStart: the runtime restores from a snapshot; REPORT says Restore Duration. */
  restored?: boolean;
  writeLog(lines: Array<{ timestamp: number; message: string }>): void;
}

const errorPayload = (errorType: string, errorMessage: string): Buffer => Buffer.from(JSON.stringify({ errorType, errorMessage }));

export class ExecutionEnvironment {
  phase: EnvironmentPhase = "initializing";
  sandbox: Sandbox | undefined;
  readonly endpoint: RuntimeApiEndpoint;
  private initStartedAt: number;
  private initDurationMs: number | undefined;
  private initReported = false;
  private initError: { errorType: string; payload: Buffer } | undefined;
  private readyWaiters: Array<() => void> = [];
  private exitWaiters: Array<(e: SandboxExit) => void> = [];
  private partialLine = "";
  private output: Array<{ timestamp: number; message: string }> = [];

  /**
   * `endpoint`: the socket path to serve a new Runtime API on, or the endpoint of a pre-initialized
   * sandbox being adopted (its runtime is booted and waits; init, and Init Duration, start now).
   */
  constructor(endpoint: string | RuntimeApiEndpoint, private readonly opts: EnvironmentOptions) {
    this.initStartedAt = opts.clock.monotonic();
    const events = {
      onNext: () => this.onNext(),
      onInitError: (errorType: string, payload: Buffer) => {
        this.initError = { errorType, payload };
        this.wakeReady();
      },
    };
    if (typeof endpoint === "string") {
      this.endpoint = new RuntimeApiEndpoint(endpoint, events);
    } else {
      this.endpoint = endpoint;
      endpoint.attach(events);
    }
  }

  get id(): string {
    return this.opts.id;
  }

  /** Bytes from the runtime's stdout/stderr, split into log events. */
  onOutput(chunk: Buffer): void {
    const text = this.partialLine + chunk.toString("utf8");
    const lines = text.split("\n");
    this.partialLine = lines.pop() ?? "";
    const now = this.opts.clock.now();
    for (const line of lines) this.output.push({ timestamp: now, message: line });
  }

  onExit(exit: SandboxExit): void {
    this.phase = "dead";
    for (const w of this.exitWaiters.splice(0)) w(exit);
    this.wakeReady();
  }

  private onNext(): void {
    if (this.initDurationMs === undefined) this.initDurationMs = this.opts.clock.monotonic() - this.initStartedAt;
    if (this.phase === "initializing") this.phase = "ready";
    this.wakeReady();
  }

  private wakeReady(): void {
    for (const w of this.readyWaiters.splice(0)) w();
  }

  private waitReady(timeoutMs: number): Promise<"ready" | "init-error" | "dead" | "timeout"> {
    const state = (): "ready" | "init-error" | "dead" | undefined =>
      this.initError ? "init-error" : this.phase === "dead" ? "dead" : this.phase === "ready" ? "ready" : undefined;
    const now = state();
    if (now) return Promise.resolve(now);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve("timeout"), timeoutMs);
      this.readyWaiters.push(() => {
        const s = state();
        if (!s) return;
        clearTimeout(timer);
        resolve(s);
      });
    });
  }

  /**
   * Provisioned concurrency: resolves once the runtime has initialized (waits on /next), so that
   * no invocation waits for the init or reports an Init Duration; rejects if init fails.
   */
  async initialize(): Promise<void> {
    const readiness = await this.waitReady(this.opts.initTimeoutMs);
    if (readiness === "ready") {
      this.initReported = true;
      return;
    }
    if (readiness === "init-error") throw new Error(`the function's init failed: ${this.initError?.payload.toString("utf8").slice(0, 512) ?? ""}`);
    throw new Error(readiness === "dead" ? "the runtime exited during init" : `the runtime did not initialize within ${this.opts.initTimeoutMs} ms`);
  }

  private flushOutput(into: Array<{ timestamp: number; message: string }>): void {
    if (this.partialLine) {
      this.output.push({ timestamp: this.opts.clock.now(), message: this.partialLine });
      this.partialLine = "";
    }
    into.push(...this.output.splice(0));
  }

  async invoke(inv: InvocationInput): Promise<InvocationOutcome> {
    const lines: Array<{ timestamp: number; message: string }> = [];
    const stamp = (message: string) => lines.push({ timestamp: this.opts.clock.now(), message });
    const started = this.opts.clock.monotonic();
    const readiness = await this.waitReady(Math.max(this.opts.initTimeoutMs, 0));
    this.flushOutput(lines);
    stamp(startLine(inv.requestId, this.opts.version));
    const initDurationMs = this.initReported ? undefined : this.initDurationMs;
    this.initReported = true;

    let outcome: { payload: Buffer; functionError?: "Unhandled"; healthy: boolean; notice?: string };
    let durationMs = 0;
    if (readiness !== "ready") {
      outcome = this.initFailure(inv.requestId, readiness);
      durationMs = this.opts.clock.monotonic() - started;
    } else {
      this.phase = "invoking";
      const t0 = this.opts.clock.monotonic();
      const result = await this.runInvocation(inv);
      durationMs = this.opts.clock.monotonic() - t0;
      outcome = result;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.flushOutput(lines);
    if (outcome.notice) stamp(outcome.notice);
    stamp(endLine(inv.requestId));
    const maxMemoryUsedMB = await this.maxMemoryUsedMB();
    const figures = { durationMs, memoryMB: this.opts.memoryMB, maxMemoryUsedMB, ...(initDurationMs !== undefined ? { initDurationMs, restored: this.opts.restored === true } : {}) };
    stamp(reportLine(inv.requestId, figures));
    this.opts.writeLog(lines);
    const result: InvocationOutcome = { payload: outcome.payload, logTail: logTail(lines.map((l) => l.message)), healthy: outcome.healthy, durationMs };
    if (outcome.functionError) result.functionError = outcome.functionError;
    if (initDurationMs !== undefined) result.initDurationMs = initDurationMs;
    return result;
  }

  private initFailure(requestId: string, why: "init-error" | "dead" | "timeout"): { payload: Buffer; functionError: "Unhandled"; healthy: false; notice?: string } {
    if (why === "init-error" && this.initError) return { payload: this.initError.payload, functionError: "Unhandled", healthy: false };
    if (why === "timeout") {
      return {
        payload: errorPayload("Sandbox.Timedout", `RequestId: ${requestId} Error: Runtime failed to initialize within ${(this.opts.initTimeoutMs / 1000).toFixed(2)} seconds`),
        functionError: "Unhandled",
        healthy: false,
      };
    }
    return { payload: errorPayload("Runtime.ExitError", `RequestId: ${requestId} Error: Runtime exited without providing a reason`), functionError: "Unhandled", healthy: false };
  }

  private async runInvocation(inv: InvocationInput): Promise<{ payload: Buffer; functionError?: "Unhandled"; healthy: boolean; notice?: string }> {
    const deadlineMs = this.opts.clock.now() + inv.timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), inv.timeoutMs)));
    const exited = new Promise<SandboxExit>((resolve) => this.exitWaiters.push(resolve));
    const delivered = this.endpoint.deliver({
      requestId: inv.requestId,
      payload: inv.payload,
      deadlineMs,
      invokedFunctionArn: inv.invokedArn,
      traceId: `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${inv.requestId.replace(/-/g, "").slice(0, 24)};Parent=${inv.requestId.replace(/-/g, "").slice(0, 16)};Sampled=0;Lineage=kiln`,
      ...(inv.clientContext ? { clientContext: inv.clientContext } : {}),
    });
    const first = await Promise.race([delivered, timedOut, exited]);
    clearTimeout(timer);
    this.exitWaiters = [];
    if (first === "timeout") {
      this.endpoint.abandon();
      const seconds = (inv.timeoutMs / 1000).toFixed(2);
      await this.restart();
      return {
        payload: errorPayload("Sandbox.Timedout", `RequestId: ${inv.requestId} Error: Task timed out after ${seconds} seconds`),
        functionError: "Unhandled",
        healthy: this.phase !== "dead",
        notice: `${new Date(this.opts.clock.now()).toISOString()} ${inv.requestId} Task timed out after ${seconds} seconds`,
      };
    }
    if ("kind" in first) {
      if (this.phase === "invoking") this.phase = "ready";
      return this.fromRuntime(first, inv.requestId);
    }
    this.endpoint.abandon();
    const exit = first;
    const how = exit.signal ? `signal: ${exit.signal === "SIGKILL" ? "killed" : exit.signal}` : `exit status ${exit.code ?? 0}`;
    return {
      payload: errorPayload(exit.oomKilled ? "Runtime.OutOfMemory" : "Runtime.ExitError", `RequestId: ${inv.requestId} Error: Runtime exited with error: ${how}`),
      functionError: "Unhandled",
      healthy: false,
    };
  }

  private fromRuntime(o: RuntimeOutcome, requestId: string): { payload: Buffer; functionError?: "Unhandled"; healthy: boolean } {
    switch (o.kind) {
      case "response":
        return { payload: o.payload, healthy: true };
      case "error":
        return { payload: o.payload, functionError: "Unhandled", healthy: true };
      case "response-too-large":
        return {
          payload: Buffer.from(JSON.stringify({ errorMessage: "Response payload size exceeded maximum allowed payload size (6291556 bytes).", errorType: "Function.ResponseSizeTooLarge" })),
          functionError: "Unhandled",
          healthy: true,
        };
    }
    void requestId;
  }

  /** Restarts the runtime in place after a timeout: memory is lost, /tmp survives, init runs again. */
  private async restart(): Promise<void> {
    this.phase = "initializing";
    this.initStartedAt = this.opts.clock.monotonic();
    try {
      await this.sandbox?.restartRuntime();
    } catch {
      this.phase = "dead";
    }
  }

  private async maxMemoryUsedMB(): Promise<number> {
    try {
      return (await this.sandbox?.stats())?.maxMemoryUsedMB ?? 0;
    } catch {
      return 0;
    }
  }

  async destroy(): Promise<void> {
    this.phase = "dead";
    this.wakeReady();
    await Promise.allSettled([this.sandbox?.destroy(), this.endpoint.close()]);
  }
}
