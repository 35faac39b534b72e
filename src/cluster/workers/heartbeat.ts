/**
 * WorkerHeartbeat: every second, puts this worker's record (record.ts) under its id in KV
 * `kiln-workers`; stop() deletes it (deregister), which the directory sees at once as a leave.
 */
import { cpus, loadavg } from "node:os";
import type { KV } from "@nats-io/kv";
import type { Clock, Logger } from "../../base/index.js";
import type { LocalWorkerSummary } from "./local.js";
import { checkWorkerId, type WorkerRecord } from "./record.js";

export const DEFAULT_HEARTBEAT_INTERVAL_MS = 1_000;

export interface WorkerHeartbeatOptions {
  kv: KV;
  /** The worker (LocalWorker): its id and its current summary. */
  source: { readonly id: string; summary(): LocalWorkerSummary };
  url: string;
  roles: string[];
  clock: Clock;
  log: Logger;
  startedAt: number;
  /** When the worker's lease ends (it may be asked again: drain does not move it). */
  leaseEndsAt: () => number;
  intervalMs?: number;
  /** Host CPU load 0..1 (default: 1-minute load average / cores, capped at 1). */
  cpu?: () => number;
}

export const hostCpu = (): number => Math.min(1, loadavg()[0]! / Math.max(1, cpus().length));

export class WorkerHeartbeat {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly opts: WorkerHeartbeatOptions) {
    checkWorkerId(opts.source.id);
  }

  record(): WorkerRecord {
    const s = this.opts.source.summary();
    return {
      id: this.opts.source.id,
      url: this.opts.url,
      roles: this.opts.roles,
      totalMemoryMB: s.totalMemoryMB,
      freeMemoryMB: s.freeMemoryMB,
      runningSandboxes: s.runningSandboxes,
      busy: s.busy,
      environmentsCreated: s.environmentsCreated,
      cpu: (this.opts.cpu ?? hostCpu)(),
      state: s.state,
      sandboxes: s.sandboxes,
      startedAt: this.opts.startedAt,
      leaseEndsAt: this.opts.leaseEndsAt(),
      seenAt: this.opts.clock.now(),
    };
  }

  /** Puts the first record (awaited), then one every interval. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => {
      this.inFlight = this.beat().catch((e) => this.opts.log.warn("heartbeat failed", { worker: this.opts.source.id, error: String(e) }));
    }, this.opts.intervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS);
    this.timer.unref?.();
  }

  /** One heartbeat now (also after a state change, so placement learns it at once). */
  async beat(): Promise<void> {
    if (this.stopped) return;
    await this.opts.kv.put(this.opts.source.id, JSON.stringify(this.record()));
  }

  /** Stops beating; with `deregister` (default) deletes the record so directories see the leave at once. */
  async stop(opts: { deregister?: boolean } = {}): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
    if (opts.deregister !== false) await this.opts.kv.delete(this.opts.source.id);
  }
}
