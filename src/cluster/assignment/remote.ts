/**
 * The frontend's client of the partition leaders: `AssignmentPort` over NATS request/reply.
 *
 * - acquire: asks the configuration's partition for a warm environment (`warmOnly`); on none,
 *   evaluates `mayScaleUp()` here (the scaling rate is the frontend's) and, if allowed, asks
 *   again with the spec for a cold start: the leader replies when the environment is ready.
 * - release, drain, setProvisioned: fire-and-forget, retried in the background.
 * - provisionedStatus: answered from a cache, refreshed every second from the leaders for the
 *   configurations this client has set targets for.
 * Every request is retried on no-responders (no leader right now: a takeover) with backoff for
 * up to `retryForMs` (6 s covers a takeover); warm acquires and background requests are retried
 * on timeouts too; a cold start is not (it would create a second environment). While a cold
 * start is pending the client pings the partition every second: if another term answers (the
 * leader died mid-creation), the acquire starts over with the new leader (once) instead of
 * waiting for the cold start timeout.
 *
 * Known caveats: a warm acquire whose reply is lost (timeout) and is retried can leave the first
 * environment busy on the leader with no one to release it (see leader.ts). `release` of a lease
 * whose leader died before the new one replayed it is ignored (the entry was busy: stays busy).
 */
import { RequestError, TimeoutError, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../../base/index.js";
import { ScalingThrottledError, type AssignmentPort, type DrainScope, type Lease, type ProvisionedFigures } from "../../assignment/index.js";
import { partitionOfConfig, partitionsOfScope } from "./partition.js";
import { fromWireError, rpcSubject, type AssignReply, type AssignRequest, type StatusReply } from "./protocol.js";

export interface RemoteAssignmentOptions {
  nc: NatsConnection;
  partitions: number;
  log: Logger;
  /** How long a request is retried while no leader answers (default 6000). */
  retryForMs?: number;
  /** Timeout of one request, but a cold start (default 2000). */
  requestTimeoutMs?: number;
  /** Timeout of a cold start request: creating and initializing an environment (default 60000). */
  coldStartTimeoutMs?: number;
  /** Provisioned figures refresh period (default 1000). */
  statusRefreshMs?: number;
  /** During a cold start, how often the client checks that the partition's leader is unchanged (default 1000). */
  leaderCheckMs?: number;
}

/** Thrown when no leader answered within the retry window. */
export class AssignmentUnavailableError extends Error {
  override readonly name = "AssignmentUnavailable";
  constructor(partition: number, cause: unknown) {
    super(`assignment partition ${partition} has no reachable leader: ${String((cause as Error)?.message ?? cause)}`, { cause });
  }
}

/** The partition's leader changed while a cold start was pending (retried once by acquire). */
export class LeaderChangedError extends Error {
  override readonly name = "LeaderChanged";
  constructor(partition: number) {
    super(`assignment partition ${partition} changed leader during a cold start`);
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class RemoteAssignment<Spec> implements AssignmentPort<Spec> {
  private readonly retryForMs: number;
  private readonly requestTimeoutMs: number;
  private readonly coldStartTimeoutMs: number;
  private readonly targets = new Map<string, number>();
  private readonly figures = new Map<string, ProvisionedFigures>();
  private readonly refresher: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly opts: RemoteAssignmentOptions) {
    this.retryForMs = opts.retryForMs ?? 6000;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 2000;
    this.coldStartTimeoutMs = opts.coldStartTimeoutMs ?? 60_000;
    this.refresher = setInterval(() => void this.refreshStatus(), opts.statusRefreshMs ?? 1000);
    this.refresher.unref();
  }

  private partitionOf(configKey: string): number {
    return partitionOfConfig(configKey, this.opts.partitions);
  }

  /** One request to a partition leader, retried on no-responders (and timeouts when `retryTimeouts`). */
  private async call(partition: number, req: AssignRequest<Spec>, timeoutMs: number, retryTimeouts: boolean): Promise<unknown> {
    return (await this.exchange(partition, req, timeoutMs, retryTimeouts)).result;
  }

  private async exchange(partition: number, req: AssignRequest<Spec>, timeoutMs: number, retryTimeouts: boolean): Promise<{ result: unknown; term?: number }> {
    const deadline = Date.now() + this.retryForMs;
    let backoff = 50;
    for (;;) {
      let retryable: unknown;
      try {
        const msg = await this.opts.nc.request(rpcSubject(partition), JSON.stringify(req), { timeout: timeoutMs });
        const reply = msg.json<AssignReply>();
        if (reply.ok) return { result: reply.result, ...(reply.term !== undefined ? { term: reply.term } : {}) };
        if (reply.error.name !== "NotLeader") throw fromWireError(reply.error);
        retryable = fromWireError(reply.error);
      } catch (e) {
        const noResponders = e instanceof RequestError && e.isNoResponders();
        const timedOut = e instanceof TimeoutError || (e instanceof RequestError && e.cause instanceof TimeoutError);
        if (!noResponders && !(timedOut && retryTimeouts) && retryable === undefined) throw e;
        retryable ??= e;
      }
      if (this.closed || Date.now() + backoff > deadline) throw new AssignmentUnavailableError(partition, retryable);
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 500);
    }
  }

  async acquire(configKey: string, memoryMB: number, spec: () => Spec, mayScaleUp: () => boolean = () => true): Promise<Lease> {
    const p = this.partitionOf(configKey);
    for (let attempt = 0; ; attempt++) {
      const warm = await this.exchange(p, { op: "acquire", configKey, memoryMB, warmOnly: true }, this.requestTimeoutMs, true);
      if (warm.result) return warm.result as Lease;
      if (attempt === 0 && !mayScaleUp()) throw new ScalingThrottledError(configKey);
      try {
        return await this.coldStart(p, { op: "acquire", configKey, memoryMB, warmOnly: false, spec: spec() }, warm.term);
      } catch (e) {
        // The leader changed while it created the environment: the new one destroys what the old
        // one left initializing, so start over there (once).
        if (!(e instanceof LeaderChangedError) || attempt > 0) throw e;
      }
    }
  }

  /** A cold start request, abandoned when the partition's leader (term) changes meanwhile. */
  private coldStart(p: number, req: AssignRequest<Spec>, term: number | undefined): Promise<Lease> {
    const request = this.call(p, req, this.coldStartTimeoutMs, false) as Promise<Lease>;
    if (term === undefined) return request;
    let settled = false;
    const watch = new Promise<never>((_, reject) => {
      const check = async () => {
        while (!settled) {
          await sleep(this.opts.leaderCheckMs ?? 1000);
          if (settled) return;
          const now = await this.exchange(p, { op: "ping" }, this.requestTimeoutMs, true).catch(() => undefined);
          if (!settled && now && now.term !== term) return reject(new LeaderChangedError(p));
        }
      };
      void check();
    });
    return Promise.race([request, watch]).finally(() => {
      settled = true;
    });
  }

  /** Runs a request in the background; logs when it finally fails. */
  private background(partition: number, req: AssignRequest<Spec>): void {
    void this.call(partition, req, this.requestTimeoutMs, true).catch((e: unknown) => {
      if (!this.closed) this.opts.log.warn("assignment request failed", { op: req.op, partition, error: String(e) });
    });
  }

  release(lease: Lease, healthy: boolean): void {
    this.background(this.partitionOf(lease.configKey), { op: "release", lease, healthy });
  }

  drain(scope: DrainScope): void {
    for (const p of partitionsOfScope(scope.prefix, this.opts.partitions)) this.background(p, { op: "drain", scope });
  }

  setProvisioned(configKey: string, target: { count: number; memoryMB: number; spec: () => Spec } | undefined): void {
    const t = target && target.count > 0 ? { count: target.count, memoryMB: target.memoryMB, spec: target.spec() } : null;
    if (t) this.targets.set(configKey, t.count);
    else this.targets.delete(configKey);
    this.figures.delete(configKey);
    this.background(this.partitionOf(configKey), { op: "setProvisioned", configKey, target: t });
  }

  provisionedStatus(configKey: string): ProvisionedFigures {
    const cached = this.figures.get(configKey);
    if (cached) return cached;
    const target = this.targets.get(configKey) ?? 0;
    return target > 0 ? { target, allocated: 0, status: "IN_PROGRESS" } : { target: 0, allocated: 0, status: "READY" };
  }

  /** Asks each partition leader for the figures of the configurations with targets set here. */
  async refreshStatus(): Promise<void> {
    const byPartition = new Map<number, string[]>();
    for (const k of this.targets.keys()) {
      const p = this.partitionOf(k);
      byPartition.set(p, [...(byPartition.get(p) ?? []), k]);
    }
    await Promise.all(
      [...byPartition].map(async ([p, configKeys]) => {
        try {
          const msg = await this.opts.nc.request(rpcSubject(p), JSON.stringify({ op: "provisionedStatus", configKeys } satisfies AssignRequest<Spec>), { timeout: this.requestTimeoutMs });
          const reply = msg.json<AssignReply>();
          if (!reply.ok) return;
          for (const [k, f] of Object.entries(reply.result as StatusReply)) if (this.targets.has(k)) this.figures.set(k, f);
        } catch {
          /* no leader right now: keep the last figures */
        }
      }),
    );
  }

  close(): void {
    this.closed = true;
    clearInterval(this.refresher);
  }
}
