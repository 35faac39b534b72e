/**
 * The worker as its node serves it: wraps the in-process Worker, knows which environments are
 * being created, idle or running an invocation, refuses new environments once draining, and
 * summarizes itself for the heartbeat. The server, the heartbeat and the lifetime share one.
 *
 * Known caveats: "idle" here means no invocation in flight on this node; assignment may lease an
 * idle environment at the moment a draining worker destroys it: that invoke gets 410
 * EnvironmentGone (retryable) and assignment forgets the environment.
 */
import type { EnvironmentSpec, HostedEnvironment, InvocationInput, InvocationOutcome } from "../../worker/index.js";
import type { WorkerLoad } from "../../placement/index.js";
import { EnvironmentGoneError, WorkerDrainingError } from "./errors.js";
import type { WorkerState } from "./record.js";

/** What the node needs of src/worker's Worker. */
export interface HostWorker {
  readonly id: string;
  createEnvironment(id: string, configKey: string, spec: EnvironmentSpec): Promise<void>;
  invoke(id: string, inv: InvocationInput): Promise<InvocationOutcome>;
  destroyEnvironment(id: string): Promise<void>;
  load(): WorkerLoad;
  environments(): HostedEnvironment[];
  drain(): Promise<void>;
}

interface Tracked {
  configKey: string;
  memoryMB: number;
  ready: boolean;
  inFlight: number;
}

export interface LocalWorkerSummary {
  state: WorkerState;
  totalMemoryMB: number;
  freeMemoryMB: number;
  runningSandboxes: number;
  sandboxes: Record<string, number>;
  busy: number;
  /** Environments created here since the start (cumulative). */
  environmentsCreated: number;
}

export class LocalWorker {
  private readonly envs = new Map<string, Tracked>();
  private draining = false;
  private created = 0;
  private readonly idleListeners: Array<(environmentId: string) => void> = [];

  constructor(readonly worker: HostWorker) {}

  get id(): string {
    return this.worker.id;
  }

  get state(): WorkerState {
    return this.draining ? "draining" : "active";
  }

  async createEnvironment(id: string, configKey: string, spec: EnvironmentSpec): Promise<void> {
    if (this.draining) throw new WorkerDrainingError(this.id);
    if (this.envs.has(id)) throw new Error(`execution environment ${id} already exists on worker ${this.id}`);
    const t: Tracked = { configKey, memoryMB: spec.memoryMB, ready: false, inFlight: 0 };
    this.envs.set(id, t);
    try {
      await this.worker.createEnvironment(id, configKey, spec);
    } catch (e) {
      if (this.envs.get(id) === t) this.envs.delete(id);
      throw e;
    }
    if (this.envs.get(id) !== t) throw new EnvironmentGoneError(this.id, id, "destroyed while it was being created");
    t.ready = true;
    this.created++;
    if (this.draining) this.emitIdle(id);
  }

  async invoke(id: string, inv: InvocationInput): Promise<InvocationOutcome> {
    const t = this.envs.get(id);
    if (!t || !t.ready) throw new EnvironmentGoneError(this.id, id);
    t.inFlight++;
    try {
      return await this.worker.invoke(id, inv);
    } finally {
      t.inFlight--;
      if (t.inFlight === 0 && this.envs.get(id) === t) this.emitIdle(id);
    }
  }

  /** Idempotent: destroying an unknown environment does nothing. */
  async destroyEnvironment(id: string): Promise<void> {
    this.envs.delete(id);
    await this.worker.destroyEnvironment(id);
  }

  has(id: string): boolean {
    return this.envs.get(id)?.ready === true;
  }

  /** Environments with no invocation in flight (ready ones only). */
  idleEnvironments(): string[] {
    return [...this.envs.entries()].filter(([, t]) => t.ready && t.inFlight === 0).map(([id]) => id);
  }

  /** Environments running an invocation or still being created. */
  busyCount(): number {
    let n = 0;
    for (const t of this.envs.values()) if (!t.ready || t.inFlight > 0) n++;
    return n;
  }

  get environmentCount(): number {
    return this.envs.size;
  }

  /** Called whenever an environment has no invocation in flight any more (and once created, while draining). */
  onIdle(listener: (environmentId: string) => void): void {
    this.idleListeners.push(listener);
  }

  private emitIdle(id: string): void {
    for (const l of this.idleListeners) l(id);
  }

  /** Stop taking new environments: creates are refused (WorkerDraining), the Worker's pool closes. */
  async drain(): Promise<void> {
    this.draining = true;
    await this.worker.drain();
  }

  summary(): LocalWorkerSummary {
    const free = this.worker.load().freeMemoryMB;
    let used = 0;
    const sandboxes: Record<string, number> = {};
    for (const t of this.envs.values()) {
      used += t.memoryMB;
      sandboxes[t.configKey] = (sandboxes[t.configKey] ?? 0) + 1;
    }
    return { state: this.state, totalMemoryMB: free + used, freeMemoryMB: free, runningSandboxes: this.envs.size, sandboxes, busy: this.busyCount(), environmentsCreated: this.created };
  }
}
