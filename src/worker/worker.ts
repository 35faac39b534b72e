/**
 * The worker: hosts execution environments on this machine. Creates sandboxes through a driver,
 * serves each one's Runtime API, runs invocations with their timeout, and writes their logs.
 *
 * Cold starts come from the pool of pre-initialized sandboxes (pool/) when the function may use
 * one (pool/eligibility.ts) and one of its class is idle: the worker places the function's code and
 * layers into it, hands its runtime the function's environment, and the environment's init (and
 * Init Duration) starts there. Otherwise, or if that fails, it spawns a fresh sandbox.
 */
import { chmod, chown, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import type { Clock, Logger } from "../base/index.js";
import type { WorkerLoad } from "../placement/index.js";
import type { RuntimeName, SandboxDriver, SandboxEvents } from "../sandbox/index.js";
import type { LogStore } from "../store/index.js";
import { CpuMeter } from "./cpu.js";
import { ExecutionEnvironment, type InvocationInput, type InvocationOutcome } from "./environment.js";
import { poolDecision } from "./pool/eligibility.js";
import { SandboxPool, type PoolStats, type PooledEntry } from "./pool/pool.js";
import type { PoolSizingConfig } from "./pool/sizing.js";
import { functionEnvironment, logStreamName } from "./variables.js";

/** Everything a worker needs to create an execution environment for one function configuration. */
export interface EnvironmentSpec {
  accountId: string;
  functionName: string;
  version: string;
  runtime: RuntimeName;
  handler: string;
  /** The code package (CodeSha256) and where it is unpacked on this worker. */
  codeSha256: string;
  codeDir: string;
  /** The layers' packages (CodeSha256), in order, and the directories the sandbox merges under /opt. */
  layerSha256s?: string[];
  layerDirs: string[];
  memoryMB: number;
  environment: Record<string, string>;
  logGroup: string;
  region: string;
  /** SnapStart: the version's snapshot (id, host path of the blob); cold starts restore from it instead of running init. */
  snapshot?: { id: string; blob: string };
  /** "provisioned-concurrency": initialize before the environment is handed out (default "on-demand"). */
  initializationType?: "on-demand" | "provisioned-concurrency";
}

export interface WorkerOptions {
  id: string;
  driver: SandboxDriver;
  /** Per-sandbox writable state (/tmp) lives under here. */
  sandboxesDir: string;
  logs: LogStore;
  clock: Clock;
  log: Logger;
  /** Memory this worker may hand to sandboxes (default: 90% of the host's). */
  capacityMB?: number;
  /** Host uid/gid owning each sandbox's /tmp (the sandbox's user). */
  sandboxUid?: number;
  sandboxGid?: number;
  initTimeoutMs?: number;
  /** Called when an environment dies on its own (crash while idle, OOM): assignment must forget it. */
  onEnvironmentDead?: (environmentId: string) => void;
  /** Pre-initialized sandboxes (absent or max 0: every cold start spawns). Started by startPool(). */
  pool?: PoolSizingConfig;
}

interface Hosted {
  env: ExecutionEnvironment;
  spec: EnvironmentSpec;
  configKey: string;
  /** The sandbox's own directory (and its socket directory), removed with it. */
  dir: string;
  socketDir: string;
  /** The sandbox's id (a pooled sandbox keeps the id it booted with). */
  sandboxId: string;
  pooled: boolean;
}

/** Diagnostics: one hosted execution environment. */
export interface HostedEnvironment {
  id: string;
  sandboxId: string;
  configKey: string;
  accountId: string;
  /** Whether it was specialized from a pre-initialized sandbox. */
  pooled: boolean;
  pid: number | undefined;
}

export class Worker {
  private readonly hosted = new Map<string, Hosted>();
  private readonly perConfig = new Map<string, number>();
  private readonly perAccount = new Map<string, number>();
  private runtimeRoot: string | undefined;
  private usedMB = 0;
  private state: "active" | "draining" = "active";
  private readonly pool: SandboxPool | undefined;
  private readonly cpu: CpuMeter;

  constructor(private readonly opts: WorkerOptions) {
    this.cpu = new CpuMeter(opts.clock);
    if (opts.pool && opts.pool.max > 0 && opts.driver.createPooled) {
      this.pool = new SandboxPool({
        config: opts.pool,
        driver: opts.driver,
        sandboxesDir: opts.sandboxesDir,
        socketRoot: () => this.socketRoot(),
        clock: opts.clock,
        log: opts.log,
        workerFreeMemoryMB: () => this.capacityMB() - this.usedMB,
        ...(opts.sandboxUid !== undefined ? { sandboxUid: opts.sandboxUid } : {}),
        ...(opts.sandboxGid !== undefined ? { sandboxGid: opts.sandboxGid } : {}),
      });
    }
  }

  /** Starts keeping pre-initialized sandboxes (no-op without a pool). */
  startPool(): void {
    this.pool?.start();
  }

  /** The pool's counters and classes (undefined without a pool). */
  poolStats(): PoolStats | undefined {
    return this.pool?.stats();
  }

  /** Resolves once the pool holds its targets (tests and benchmarks). */
  async poolFilled(timeoutMs?: number): Promise<void> {
    await this.pool?.filled(timeoutMs);
  }

  /** Diagnostics: the environments hosted here and the sandboxes they run in. */
  environments(): HostedEnvironment[] {
    return [...this.hosted.entries()].map(([id, h]) => ({ id, sandboxId: h.sandboxId, configKey: h.configKey, accountId: h.spec.accountId, pooled: h.pooled, pid: h.env.sandbox?.pid }));
  }

  private async socketRoot(): Promise<string> {
    if (!this.runtimeRoot) {
      this.runtimeRoot = await mkdtemp(join(tmpdir(), "kiln-rt-"));
      await chmod(this.runtimeRoot, 0o711);
    }
    return this.runtimeRoot;
  }

  get id(): string {
    return this.opts.id;
  }

  get environmentCount(): number {
    return this.hosted.size;
  }

  private capacityMB(): number {
    return this.opts.capacityMB ?? Math.floor((totalmem() / 1048576) * 0.9);
  }

  /** This worker's load signals for placement (what a cluster worker sends in its heartbeat). */
  load(): WorkerLoad {
    const total = this.capacityMB();
    return {
      id: this.opts.id,
      state: this.state,
      totalMemoryMB: total,
      freeMemoryMB: total - this.usedMB,
      runningSandboxes: this.hosted.size,
      cpu: this.cpu.utilisation(),
      sandboxesOf: (configKey) => this.perConfig.get(configKey) ?? 0,
      sandboxesOfAccount: (accountId) => this.perAccount.get(accountId) ?? 0,
    };
  }

  /** Sandbox pids, for memory accounting in benchmarks and `kiln` diagnostics. */
  pids(): number[] {
    return [...this.hosted.values()].map((h) => h.env.sandbox?.pid).filter((p): p is number => p !== undefined);
  }

  async createEnvironment(id: string, configKey: string, spec: EnvironmentSpec): Promise<void> {
    const decision = poolDecision({ runtime: spec.runtime, userEnv: spec.environment, snapshotId: spec.snapshot?.id });
    const pooled = decision.pooled ? this.pool?.take(decision.kinds, spec.memoryMB, spec.snapshot?.blob) : undefined;
    if (pooled) {
      try {
        return await this.adopt(id, configKey, spec, pooled);
      } catch (e) {
        this.opts.log.warn("specializing a pre-initialized sandbox failed; spawning a fresh one", { environmentId: id, sandbox: pooled.id, error: String(e) });
      }
    }
    return this.spawn(id, configKey, spec);
  }

  private functionEnv(id: string, spec: EnvironmentSpec): { stream: string; env: Record<string, string> } {
    const stream = logStreamName(this.opts.clock.now(), spec.version, id);
    const env = functionEnvironment({
      functionName: spec.functionName,
      version: spec.version,
      memoryMB: spec.memoryMB,
      region: spec.region,
      handler: spec.handler,
      runtime: spec.runtime,
      logGroup: spec.logGroup,
      logStream: stream,
      user: spec.environment,
      ...(spec.snapshot !== undefined ? { initializationType: "snap-start" as const } : spec.initializationType ? { initializationType: spec.initializationType } : {}),
    });
    return { stream, env };
  }

  private host(id: string, configKey: string, spec: EnvironmentSpec, env: ExecutionEnvironment, where: Omit<Hosted, "env" | "spec" | "configKey">): Hosted {
    const hosted: Hosted = { env, spec, configKey, ...where };
    this.hosted.set(id, hosted);
    this.perConfig.set(configKey, (this.perConfig.get(configKey) ?? 0) + 1);
    this.perAccount.set(spec.accountId, (this.perAccount.get(spec.accountId) ?? 0) + 1);
    this.usedMB += spec.memoryMB;
    return hosted;
  }

  private sandboxEvents(id: string, env: ExecutionEnvironment): SandboxEvents {
    return {
      onOutput: (chunk) => env.onOutput(chunk),
      onExit: (exit) => {
        const wasIdle = env.phase === "ready" || env.phase === "initializing";
        env.onExit(exit);
        if (wasIdle) this.opts.onEnvironmentDead?.(id);
      },
    };
  }

  private environmentOptions(id: string, spec: EnvironmentSpec, stream: string) {
    return {
      id,
      version: spec.version,
      memoryMB: spec.memoryMB,
      clock: this.opts.clock,
      initTimeoutMs: this.opts.initTimeoutMs ?? 10_000,
      restored: spec.snapshot !== undefined,
      writeLog: (lines: Array<{ timestamp: number; message: string }>) => this.opts.logs.append(spec.accountId, spec.logGroup, stream, lines),
    };
  }

  /** A pre-initialized sandbox becomes this environment's: place the function, then let its runtime load it. */
  private async adopt(id: string, configKey: string, spec: EnvironmentSpec, pooled: PooledEntry): Promise<void> {
    const { stream, env: functionEnv } = this.functionEnv(id, spec);
    const env = new ExecutionEnvironment(pooled.endpoint, this.environmentOptions(id, spec, stream));
    env.sandbox = pooled.sandbox;
    pooled.route(this.sandboxEvents(id, env));
    this.host(id, configKey, spec, env, { dir: pooled.dir, socketDir: pooled.socketDir, sandboxId: pooled.id, pooled: true });
    try {
      const placed = await pooled.sandbox!.specialize({
        codeDir: spec.codeDir,
        layerDirs: spec.layerDirs,
        env: functionEnv,
        ...(pooled.kind === "snapstart" && spec.snapshot !== undefined ? { snapshotBlob: spec.snapshot.blob } : {}),
      });
      await pooled.endpoint.specialize(placed.env, placed.argv);
      if (spec.initializationType === "provisioned-concurrency") await env.initialize();
    } catch (e) {
      await this.destroyEnvironment(id);
      throw e;
    }
  }

  private async spawn(id: string, configKey: string, spec: EnvironmentSpec): Promise<void> {
    const socketDir = join(await this.socketRoot(), id.slice(0, 16));
    const dir = join(this.opts.sandboxesDir, id);
    const tmpDir = join(dir, "tmp");
    await Promise.all([mkdir(socketDir, { recursive: true, mode: 0o700 }), mkdir(dir, { mode: 0o711 }).then(() => mkdir(tmpDir, { mode: 0o700 }))]);
    const uid = this.opts.sandboxUid;
    const gid = this.opts.sandboxGid ?? uid;
    if (uid !== undefined && gid !== undefined && process.getuid?.() === 0) {
      await Promise.all([chown(socketDir, uid, gid), chown(tmpDir, uid, gid)]);
    }
    const { stream, env: functionEnv } = this.functionEnv(id, spec);
    const env = new ExecutionEnvironment(join(socketDir, "runtime.sock"), this.environmentOptions(id, spec, stream));
    this.host(id, configKey, spec, env, { dir, socketDir, sandboxId: id, pooled: false });
    try {
      await env.endpoint.listen();
      if (uid !== undefined && gid !== undefined && process.getuid?.() === 0) await chown(env.endpoint.socketPath, uid, gid);
      env.sandbox = await this.opts.driver.create(
        {
          id,
          runtime: spec.runtime,
          codeDir: spec.codeDir,
          layerDirs: spec.layerDirs,
          tmpDir,
          memoryMB: spec.memoryMB,
          runtimeApiSocket: env.endpoint.socketPath,
          env: functionEnv,
          ...(spec.snapshot !== undefined ? { startup: { kind: "snapshot-restore" as const, blob: spec.snapshot.blob } } : {}),
        },
        this.sandboxEvents(id, env),
      );
      if (spec.initializationType === "provisioned-concurrency") await env.initialize();
    } catch (e) {
      await this.destroyEnvironment(id);
      throw e;
    }
  }

  async invoke(id: string, inv: InvocationInput): Promise<InvocationOutcome> {
    const h = this.hosted.get(id);
    if (!h) throw new Error(`no execution environment ${id} on worker ${this.opts.id}`);
    return h.env.invoke(inv);
  }

  async destroyEnvironment(id: string): Promise<void> {
    const h = this.hosted.get(id);
    if (!h) return;
    this.hosted.delete(id);
    const n = (this.perConfig.get(h.configKey) ?? 1) - 1;
    if (n <= 0) this.perConfig.delete(h.configKey);
    else this.perConfig.set(h.configKey, n);
    const a = (this.perAccount.get(h.spec.accountId) ?? 1) - 1;
    if (a <= 0) this.perAccount.delete(h.spec.accountId);
    else this.perAccount.set(h.spec.accountId, a);
    this.usedMB -= h.spec.memoryMB;
    await h.env.destroy();
    await Promise.all([rm(h.dir, { recursive: true, force: true }), rm(h.socketDir, { recursive: true, force: true })]);
  }

  /**
   * Stops taking new sandboxes (a draining worker node): load() says draining and the pool closes
   * (its pre-initialized sandboxes are destroyed). Hosted environments stay until destroyed.
   */
  async drain(): Promise<void> {
    this.state = "draining";
    await this.pool?.close();
  }

  async close(): Promise<void> {
    this.state = "draining";
    await this.pool?.close();
    await Promise.all([...this.hosted.keys()].map((id) => this.destroyEnvironment(id)));
    if (this.runtimeRoot) await rm(this.runtimeRoot, { recursive: true, force: true });
  }
}
