/**
 * CapacityManager: every `intervalMs`, gathers demand signals (the worker directory, the
 * provider's list, a cold-start counter and the concurrency in use that the caller feeds), runs
 * decide(), and asks the provider to add or remove workers. Runs on one node (the control role).
 */
import type { Clock, Logger } from "../../base/index.js";
import type { WorkerRecord } from "../workers/index.js";
import { DEFAULT_CAPACITY_POLICY, decide, type CapacityDecision, type CapacityPolicy } from "./decide.js";
import type { CapacityProvider } from "./provider.js";

export interface CapacityManagerOptions {
  provider: CapacityProvider;
  /** Live workers (the WorkerDirectory). */
  directory: { list(): WorkerRecord[] };
  /** A monotonically increasing count of cold starts (the manager turns it into a rate). */
  coldStarts?: () => number;
  /** Invocations in flight across the fleet (default: sandboxes in the directory, an overestimate). */
  concurrencyInUse?: () => number;
  policy?: Partial<CapacityPolicy>;
  clock: Clock;
  log: Logger;
  intervalMs?: number;
  /** A requested worker that has not joined within this long stops counting as pending (default 2 min). */
  joinTimeoutMs?: number;
}

export class CapacityManager {
  private timer: NodeJS.Timeout | undefined;
  private lastChangeAt: number | undefined;
  private lastCold: { at: number; count: number } | undefined;
  private readonly firstSeenPending = new Map<string, number>();
  private readonly removing = new Set<string>();
  private readonly policy: CapacityPolicy;
  private ticking: Promise<CapacityDecision> | undefined;

  constructor(private readonly opts: CapacityManagerOptions) {
    this.policy = { ...DEFAULT_CAPACITY_POLICY, ...opts.policy };
  }

  start(): void {
    this.timer = setInterval(() => void this.tick().catch((e) => this.opts.log.warn("capacity tick failed", { error: String(e) })), this.opts.intervalMs ?? 10_000);
    this.timer.unref?.();
  }

  /** Stops deciding; resolves once a round in progress has finished (removals it began go on). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking?.catch(() => undefined);
  }

  /** One round: signals -> decision -> provider. Resolves to the decision taken. */
  tick(): Promise<CapacityDecision> {
    this.ticking ??= this.round().finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async round(): Promise<CapacityDecision> {
    const now = this.opts.clock.now();
    const records = this.opts.directory.list().filter((r) => !this.removing.has(r.id));
    const inDirectory = new Set(this.opts.directory.list().map((r) => r.id));
    const started = await this.opts.provider.list();
    let pending = 0;
    for (const id of started) {
      if (inDirectory.has(id) || this.removing.has(id)) {
        this.firstSeenPending.delete(id);
        continue;
      }
      const since = this.firstSeenPending.get(id) ?? now;
      this.firstSeenPending.set(id, since);
      if (now - since <= (this.opts.joinTimeoutMs ?? 120_000)) pending++;
      else this.opts.log.warn("a requested worker has not joined", { worker: id, sinceMs: now - since });
    }
    const decision = decide(
      {
        now,
        workers: records.map((r) => ({ id: r.id, state: r.state, totalMemoryMB: r.totalMemoryMB, freeMemoryMB: r.freeMemoryMB, runningSandboxes: r.runningSandboxes, startedAt: r.startedAt })),
        pending,
        concurrencyInUse: this.opts.concurrencyInUse?.() ?? records.reduce((a, r) => a + r.runningSandboxes, 0),
        coldStartsPerMinute: this.coldRate(now),
        ...(this.lastChangeAt !== undefined ? { lastChangeAt: this.lastChangeAt } : {}),
      },
      this.policy,
    );
    if ("add" in decision) {
      this.lastChangeAt = now;
      const ids = await this.opts.provider.add(decision.add);
      for (const id of ids) this.firstSeenPending.set(id, now);
      this.opts.log.info("adding workers", { workers: ids, reason: decision.reason });
    } else if ("remove" in decision) {
      this.lastChangeAt = now;
      for (const id of decision.remove) {
        this.removing.add(id);
        this.opts.log.info("removing a worker", { worker: id, reason: decision.reason });
        void this.opts.provider
          .remove(id)
          .catch((e) => this.opts.log.warn("removing a worker failed", { worker: id, error: String(e) }))
          .finally(() => this.removing.delete(id));
      }
    }
    return decision;
  }

  private coldRate(now: number): number {
    if (!this.opts.coldStarts) return 0;
    const count = this.opts.coldStarts();
    const prev = this.lastCold;
    this.lastCold = { at: now, count };
    if (!prev || now <= prev.at) return 0;
    return ((count - prev.count) * 60_000) / (now - prev.at);
  }
}
