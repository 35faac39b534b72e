/**
 * The assignment service: hands out execution environments. Warm ones from the table; when none
 * is idle, asks placement for a worker and has that worker create one (a cold start).
 * Reaps idle environments after the keep-alive, drains those of changed or deleted functions.
 */
import { shortId, type Clock, type Logger } from "../base/index.js";
import { place, type WorkerLoad } from "../placement/index.js";
import { EnvironmentTable, type EnvironmentEntry } from "./table.js";

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

export class NoCapacityError extends Error {
  constructor(readonly memoryMB: number) {
    super(`no worker has ${memoryMB} MB free for a new execution environment`);
  }
}

export interface AssignmentOptions<Spec> {
  fleet: WorkerFleet<Spec>;
  clock: Clock;
  keepAliveMs: number;
  log: Logger;
  /** How often the reaper looks for expired environments (default: keep-alive / 10, at least 1 s). */
  reapIntervalMs?: number;
}

export class AssignmentService<Spec> {
  readonly table = new EnvironmentTable();
  private reaper: NodeJS.Timeout | undefined;

  constructor(private readonly opts: AssignmentOptions<Spec>) {}

  start(): void {
    const every = this.opts.reapIntervalMs ?? Math.max(1000, Math.floor(this.opts.keepAliveMs / 10));
    this.reaper = setInterval(() => void this.reap(), every);
    this.reaper.unref();
  }

  async acquire(configKey: string, memoryMB: number, spec: () => Spec): Promise<Lease> {
    const warm = this.table.takeIdle(configKey, this.opts.clock.now());
    if (warm) return { environmentId: warm.id, workerId: warm.workerId, configKey, cold: false };
    const workerId = place({ configKey, memoryMB }, this.opts.fleet.loads());
    if (workerId === undefined) throw new NoCapacityError(memoryMB);
    const id = shortId();
    this.table.addInitializing(id, workerId, configKey, this.opts.clock.now());
    try {
      await this.opts.fleet.createEnvironment(workerId, id, spec());
    } catch (e) {
      this.table.remove(id);
      throw e;
    }
    this.table.markBusy(id);
    return { environmentId: id, workerId, configKey, cold: true };
  }

  /** The lease's invocation is over; `healthy: false` destroys the environment. */
  release(lease: Lease, healthy: boolean): void {
    const outcome = this.table.release(lease.environmentId, this.opts.clock.now(), healthy);
    if (outcome === "destroy") this.destroy({ id: lease.environmentId, workerId: lease.workerId });
  }

  /** Stops new work reaching environments whose configuration matches; idle ones go now. */
  drain(matches: (configKey: string) => boolean): void {
    for (const e of this.table.drain(matches)) this.destroy(e);
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
    const all = this.table.all();
    for (const e of all) this.table.remove(e.id);
    await Promise.all(all.map((e) => this.destroy(e)));
  }
}
