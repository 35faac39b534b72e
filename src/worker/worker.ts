/**
 * The worker: hosts execution environments on this machine. Creates sandboxes through a driver,
 * serves each one's Runtime API, runs invocations with their timeout, and writes their logs.
 */
import { chmod, chown, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import type { Clock, Logger } from "../base/index.js";
import type { WorkerLoad } from "../placement/index.js";
import type { RuntimeName, SandboxDriver } from "../sandbox/index.js";
import type { LogStore } from "../store/index.js";
import { ExecutionEnvironment, type InvocationInput, type InvocationOutcome } from "./environment.js";
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
}

interface Hosted {
  env: ExecutionEnvironment;
  spec: EnvironmentSpec;
  configKey: string;
  dir: string;
}

export class Worker {
  private readonly hosted = new Map<string, Hosted>();
  private readonly perConfig = new Map<string, number>();
  private runtimeRoot: string | undefined;
  private usedMB = 0;
  private state: "active" | "draining" = "active";

  constructor(private readonly opts: WorkerOptions) {}

  get id(): string {
    return this.opts.id;
  }

  get environmentCount(): number {
    return this.hosted.size;
  }

  load(): WorkerLoad {
    const capacity = this.opts.capacityMB ?? Math.floor((totalmem() / 1048576) * 0.9);
    return {
      id: this.opts.id,
      state: this.state,
      freeMemoryMB: capacity - this.usedMB,
      sandboxesOf: (configKey) => this.perConfig.get(configKey) ?? 0,
    };
  }

  /** Sandbox pids, for memory accounting in benchmarks and `kiln` diagnostics. */
  pids(): number[] {
    return [...this.hosted.values()].map((h) => h.env.sandbox?.pid).filter((p): p is number => p !== undefined);
  }

  async createEnvironment(id: string, configKey: string, spec: EnvironmentSpec): Promise<void> {
    if (!this.runtimeRoot) {
      this.runtimeRoot = await mkdtemp(join(tmpdir(), "kiln-rt-"));
      await chmod(this.runtimeRoot, 0o711);
    }
    const socketDir = join(this.runtimeRoot, id.slice(0, 16));
    const dir = join(this.opts.sandboxesDir, id);
    const tmpDir = join(dir, "tmp");
    await Promise.all([mkdir(socketDir, { recursive: true, mode: 0o700 }), mkdir(dir, { mode: 0o711 }).then(() => mkdir(tmpDir, { mode: 0o700 }))]);
    const uid = this.opts.sandboxUid;
    const gid = this.opts.sandboxGid ?? uid;
    if (uid !== undefined && gid !== undefined && process.getuid?.() === 0) {
      await Promise.all([chown(socketDir, uid, gid), chown(tmpDir, uid, gid)]);
    }
    const stream = logStreamName(this.opts.clock.now(), spec.version, id);
    const env = new ExecutionEnvironment(join(socketDir, "runtime.sock"), {
      id,
      version: spec.version,
      memoryMB: spec.memoryMB,
      clock: this.opts.clock,
      initTimeoutMs: this.opts.initTimeoutMs ?? 10_000,
      writeLog: (lines) => this.opts.logs.append(spec.accountId, spec.logGroup, stream, lines),
    });
    const hosted: Hosted = { env, spec, configKey, dir };
    this.hosted.set(id, hosted);
    this.perConfig.set(configKey, (this.perConfig.get(configKey) ?? 0) + 1);
    this.usedMB += spec.memoryMB;
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
          env: functionEnvironment({
            functionName: spec.functionName,
            version: spec.version,
            memoryMB: spec.memoryMB,
            region: spec.region,
            handler: spec.handler,
            runtime: spec.runtime,
            logGroup: spec.logGroup,
            logStream: stream,
            user: spec.environment,
            ...(spec.initializationType ? { initializationType: spec.initializationType } : {}),
          }),
        },
        {
          onOutput: (chunk) => env.onOutput(chunk),
          onExit: (exit) => {
            const wasIdle = env.phase === "ready" || env.phase === "initializing";
            env.onExit(exit);
            if (wasIdle) this.opts.onEnvironmentDead?.(id);
          },
        },
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
    this.usedMB -= h.spec.memoryMB;
    await h.env.destroy();
    await rm(h.dir, { recursive: true, force: true });
    if (this.runtimeRoot) await rm(join(this.runtimeRoot, id.slice(0, 16)), { recursive: true, force: true });
  }

  async close(): Promise<void> {
    this.state = "draining";
    await Promise.all([...this.hosted.keys()].map((id) => this.destroyEnvironment(id)));
    if (this.runtimeRoot) await rm(this.runtimeRoot, { recursive: true, force: true });
  }
}
