/**
 * WorkerLifetime: runs the lease (lease.ts) on a timer and performs its actions: start draining
 * (LocalWorker stops taking environments, the pool closes, a heartbeat says "draining"), reap idle
 * environments as they become idle (reported on kiln.env.dead first), force the rest at the bound,
 * deregister, and resolve `drained` so the process can exit.
 */
import type { Clock, Logger } from "../../base/index.js";
import { DEFAULT_DRAIN_WINDOW_MS, DEFAULT_LEASE_MS, MAX_FUNCTION_TIMEOUT_MS, lifetimeStep, type DrainReason, type LifetimeAction, type LifetimePhase } from "./lease.js";
import type { LocalWorker } from "./local.js";

export interface WorkerLifetimeOptions {
  local: LocalWorker;
  heartbeat: { beat(): Promise<void>; stop(opts?: { deregister?: boolean }): Promise<void> };
  /** Publishes an environment's death (kiln.env.dead) before it is destroyed. */
  reportDead(environmentId: string): void;
  clock: Clock;
  log: Logger;
  startedAt: number;
  leaseMs?: number;
  drainWindowMs?: number;
  maxBusyWaitMs?: number;
  tickMs?: number;
}

export interface LifetimeStatus {
  phase: LifetimePhase;
  startedAt: number;
  leaseEndsAt: number;
  drainStartedAt?: number;
  drainReason?: DrainReason;
}

export class WorkerLifetime {
  private phase: LifetimePhase = "active";
  private drainRequested = false;
  private drainStartedAt: number | undefined;
  private drainReason: DrainReason | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private resolveDrained!: () => void;
  /** Resolves once the worker has drained and deregistered. */
  readonly drained: Promise<void>;
  readonly leaseEndsAt: number;

  constructor(private readonly opts: WorkerLifetimeOptions) {
    this.leaseEndsAt = opts.startedAt + (opts.leaseMs ?? DEFAULT_LEASE_MS);
    this.drained = new Promise((resolve) => (this.resolveDrained = resolve));
    opts.local.onIdle(() => {
      if (this.phase === "draining") void this.tick();
    });
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.opts.tickMs ?? 1_000);
    this.timer.unref?.();
    void this.tick();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Asks for a drain now (idempotent). */
  drain(): void {
    this.drainRequested = true;
    void this.tick();
  }

  status(): LifetimeStatus {
    return {
      phase: this.phase,
      startedAt: this.opts.startedAt,
      leaseEndsAt: this.leaseEndsAt,
      ...(this.drainStartedAt !== undefined ? { drainStartedAt: this.drainStartedAt } : {}),
      ...(this.drainReason !== undefined ? { drainReason: this.drainReason } : {}),
    };
  }

  /** Decides and acts until there is nothing more to do now; calls made meanwhile run once more after. */
  tick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      await Promise.resolve(); // `running` is set before the loop starts
      try {
        do {
          this.again = false;
          for (let action = this.decide(); action.kind !== "hold"; action = this.decide()) await this.act(action);
        } while (this.again);
      } catch (e) {
        this.opts.log.error("the worker lifetime failed a step", { worker: this.opts.local.id, error: String(e) });
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private decide(): LifetimeAction {
    const { local } = this.opts;
    return lifetimeStep({
      phase: this.phase,
      now: this.opts.clock.now(),
      leaseEndsAt: this.leaseEndsAt,
      drainWindowMs: this.opts.drainWindowMs ?? DEFAULT_DRAIN_WINDOW_MS,
      drainRequested: this.drainRequested,
      ...(this.drainStartedAt !== undefined ? { drainStartedAt: this.drainStartedAt } : {}),
      idle: local.idleEnvironments(),
      busy: local.busyCount(),
      maxBusyWaitMs: this.opts.maxBusyWaitMs ?? MAX_FUNCTION_TIMEOUT_MS,
    });
  }

  private async act(action: Exclude<LifetimeAction, { kind: "hold" }>): Promise<void> {
    const { local, log } = this.opts;
    switch (action.kind) {
      case "start-drain":
        log.info("worker draining", { worker: local.id, reason: action.reason, environments: local.environmentCount });
        this.phase = "draining";
        this.drainReason = action.reason;
        this.drainStartedAt = this.opts.clock.now();
        await local.drain();
        await this.opts.heartbeat.beat().catch((e) => log.warn("heartbeat failed", { error: String(e) }));
        return;
      case "reap":
        await Promise.all(action.environmentIds.map((id) => this.reap(id)));
        return;
      case "finish":
        if (action.forced) {
          const left = local.worker.environments().map((e) => e.id);
          log.warn("drain bound reached: ending busy environments", { worker: local.id, environments: left.length });
          await Promise.all(left.map((id) => this.reap(id)));
        }
        await this.opts.heartbeat.stop({ deregister: true }).catch((e) => log.warn("deregistering failed", { error: String(e) }));
        this.phase = "drained";
        this.stop();
        log.info("worker drained", { worker: local.id });
        this.resolveDrained();
        return;
    }
  }

  private async reap(id: string): Promise<void> {
    this.opts.reportDead(id);
    await this.opts.local.destroyEnvironment(id).catch((e) => this.opts.log.warn("destroying an environment failed", { environmentId: id, error: String(e) }));
  }
}
