/**
 * The assignment service: hands out execution environments. Warm ones from the table (provisioned
 * ones first); when none is idle, asks placement for a worker and has that worker create one (a
 * cold start), if the function's scaling rate allows. Reaps idle environments after the
 * keep-alive, drains those of changed or deleted functions, and keeps provisioned ones initialized
 * (provisioned.ts decides, this class acts).
 */
import { shortId, type Clock, type Logger } from "../base/index.js";
import { place, type WorkerLoad } from "../placement/index.js";
import { EnvironmentTable, type EnvironmentEntry } from "./table.js";
import { provisionedPlan, provisionedStatus } from "./provisioned.js";
import { inScope, type AssignmentPort, type DrainScope, type ProvisionedFigures } from "./port.js";

/** What assignment needs from the worker fleet (standalone: one in-process worker). */
export interface WorkerFleet<Spec> {
  loads(): WorkerLoad[];
  createEnvironment(workerId: string, environmentId: string, spec: Spec): Promise<void>;
  destroyEnvironment(workerId: string, environmentId: string): Promise<void>;
}

export interface Lease {
  environmentId: string;
  workerId: string;
  configKey: string;
  /** True when this lease created the environment (a cold start). */
  cold: boolean;
}

/** Workers one cold start tries when the chosen ones turn out to be gone. */
const MAX_WORKERS_TRIED = 3;

export class NoCapacityError extends Error {
  constructor(readonly memoryMB: number) {
    super(`no worker has ${memoryMB} MB free for a new execution environment`);
  }
}

/** No environment was idle and the function's scaling rate allows no new one right now. */
export class ScalingThrottledError extends Error {
  constructor(readonly configKey: string) {
    super(`the scaling rate allows no new execution environment for ${configKey} now`);
  }
}

/** What a provisioned concurrency configuration asks of one function configuration. */
export interface ProvisionedTarget<Spec> {
  count: number;
  memoryMB: number;
  spec: () => Spec;
}

export interface AssignmentOptions<Spec> {
  fleet: WorkerFleet<Spec>;
  clock: Clock;
  keepAliveMs: number;
  log: Logger;
  /** How often the reaper looks for expired environments (default: keep-alive / 10, at least 1 s). */
  reapIntervalMs?: number;
}

export class AssignmentService<Spec> implements AssignmentPort<Spec> {
  readonly table = new EnvironmentTable();
  private reaper: NodeJS.Timeout | undefined;
  private readonly provisioned = new Map<string, ProvisionedTarget<Spec> & { failure?: string }>();

  constructor(private readonly opts: AssignmentOptions<Spec>) {}

  start(): void {
    const every = this.opts.reapIntervalMs ?? Math.max(1000, Math.floor(this.opts.keepAliveMs / 10));
    this.reaper = setInterval(() => {
      void this.reap();
      for (const k of this.provisioned.keys()) this.reconcile(k);
    }, every);
    this.reaper.unref();
  }

  /**
   * Stops the reaper and provisioned reconciliation without touching any environment (a partition
   * leader stepping down: the environments live on under the next leader). Restart with start().
   */
  stop(): void {
    if (this.reaper) clearInterval(this.reaper);
    this.reaper = undefined;
  }

  /**
   * A lease on an environment of `configKey`: a warm one, else a new one (cold start) when
   * `mayScaleUp` (the function's scaling rate) allows it, else ScalingThrottledError.
   */
  async acquire(configKey: string, memoryMB: number, spec: () => Spec, mayScaleUp: () => boolean = () => true): Promise<Lease> {
    const warm = this.table.takeIdle(configKey, this.opts.clock.now());
    if (warm) return { environmentId: warm.id, workerId: warm.workerId, configKey, cold: false };
    if (!mayScaleUp()) throw new ScalingThrottledError(configKey);
    // A worker that turns out to be gone (or draining) before the environment exists costs only
    // a new placement, without it.
    const avoid = new Set<string>();
    for (;;) {
      const workerId = place({ configKey, memoryMB }, this.loads().filter((l) => !avoid.has(l.id)));
      if (workerId === undefined) throw new NoCapacityError(memoryMB);
      const id = shortId();
      this.table.addInitializing(id, workerId, configKey, this.opts.clock.now());
      try {
        await this.opts.fleet.createEnvironment(workerId, id, spec());
      } catch (e) {
        this.table.remove(id);
        if ((e as { retryable?: unknown }).retryable === true && avoid.size < MAX_WORKERS_TRIED - 1) {
          avoid.add(workerId);
          continue;
        }
        throw e;
      }
      this.table.markBusy(id);
      return { environmentId: id, workerId, configKey, cold: true };
    }
  }

  /**
   * The workers' loads, corrected by this table: workers report their sandboxes in heartbeats a
   * moment old, while the table knows every environment of its functions at once (a function's
   * environments all live in one table), including those still initializing. Without this,
   * concurrent cold starts between two heartbeats would all land on the same worker.
   */
  private loads(): WorkerLoad[] {
    return this.opts.fleet.loads().map((l) => {
      const mine = this.table.onWorker(l.id);
      return { ...l, sandboxesOf: (configKey: string) => Math.max(l.sandboxesOf(configKey), mine.get(configKey) ?? 0) };
    });
  }

  /** The lease's invocation is over; `healthy: false` destroys the environment. */
  release(lease: Lease, healthy: boolean): void {
    const outcome = this.table.release(lease.environmentId, this.opts.clock.now(), healthy);
    if (outcome === "destroy") {
      void this.destroy({ id: lease.environmentId, workerId: lease.workerId });
      if (this.provisioned.has(lease.configKey)) this.reconcile(lease.configKey);
    }
  }

  /**
   * Keeps `target.count` initialized environments of `configKey` (provisioned concurrency), or,
   * with undefined, stops: its provisioned environments become ordinary on-demand ones.
   */
  setProvisioned(configKey: string, target: ProvisionedTarget<Spec> | undefined): void {
    if (target === undefined || target.count <= 0) {
      if (!this.provisioned.delete(configKey)) return;
      const now = this.opts.clock.now();
      const view = this.table.provisionedOf(configKey);
      for (const id of [...view.idle, ...view.busy]) this.table.demote(id, now);
      return;
    }
    const prev = this.provisioned.get(configKey);
    this.provisioned.set(configKey, { ...target, ...(prev?.failure !== undefined && prev.count === target.count ? { failure: prev.failure } : {}) });
    this.reconcile(configKey);
  }

  /** Configurations with provisioned targets. */
  provisionedKeys(): string[] {
    return [...this.provisioned.keys()];
  }

  provisionedStatus(configKey: string): ProvisionedFigures {
    const t = this.provisioned.get(configKey);
    const view = this.table.provisionedOf(configKey);
    const { allocated, status } = provisionedStatus(t?.count ?? 0, view, t?.failure);
    return { target: t?.count ?? 0, allocated, status, ...(status === "FAILED" && t?.failure ? { reason: t.failure } : {}) };
  }

  private reconcile(configKey: string): void {
    const t = this.provisioned.get(configKey);
    if (!t) return;
    const plan = provisionedPlan(t.count, this.table.provisionedOf(configKey));
    const now = this.opts.clock.now();
    for (const id of plan.demote) this.table.demote(id, now);
    for (const id of plan.destroy) {
      const e = this.table.remove(id);
      if (e) void this.destroy(e);
    }
    for (let i = 0; i < plan.create; i++) void this.createProvisioned(configKey, t);
  }

  private async createProvisioned(configKey: string, t: ProvisionedTarget<Spec>): Promise<void> {
    const failed = (reason: string) => {
      const cur = this.provisioned.get(configKey);
      if (cur) cur.failure = reason;
    };
    const workerId = place({ configKey, memoryMB: t.memoryMB }, this.loads());
    if (workerId === undefined) return failed(new NoCapacityError(t.memoryMB).message);
    const id = shortId();
    this.table.addInitializing(id, workerId, configKey, this.opts.clock.now(), true);
    try {
      await this.opts.fleet.createEnvironment(workerId, id, t.spec());
    } catch (e) {
      this.table.remove(id);
      this.opts.log.warn("provisioned environment failed", { configKey, error: String(e) });
      return failed(`Kiln could not initialize a provisioned execution environment: ${(e as Error).message}`);
    }
    delete this.provisioned.get(configKey)?.failure;
    if (this.table.release(id, this.opts.clock.now(), true) === "destroy") void this.destroy({ id, workerId });
    // The target may have shrunk while this one initialized.
    this.reconcile(configKey);
  }

  /** Stops new work reaching the scope's environments; idle ones go now. */
  drain(scope: DrainScope): void {
    for (const e of this.table.drain(inScope(scope))) void this.destroy(e);
  }

  async reap(): Promise<number> {
    const expired = this.table.expired(this.opts.clock.now(), this.opts.keepAliveMs);
    await Promise.all(expired.map((e) => this.destroy(e)));
    return expired.length;
  }

  private destroy(e: Pick<EnvironmentEntry, "id" | "workerId">): Promise<void> {
    return this.opts.fleet.destroyEnvironment(e.workerId, e.id).catch((err: unknown) => {
      this.opts.log.warn("destroying environment failed", { environmentId: e.id, error: String(err) });
    });
  }

  async close(): Promise<void> {
    if (this.reaper) clearInterval(this.reaper);
    this.provisioned.clear();
    const all = this.table.all();
    for (const e of all) this.table.remove(e.id);
    await Promise.all(all.map((e) => this.destroy(e)));
  }
}
