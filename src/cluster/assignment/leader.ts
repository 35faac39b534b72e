/**
 * One partition, led by this node: an in-memory AssignmentService whose table is restored from
 * the replayed journal and journals every change, serving `kiln.assign.rpc.<partition>`.
 *
 * Takeover (start): the replayed entries are restored as they were, except `initializing` ones:
 * the dead leader was creating them and nobody will ever get their lease, so they are removed
 * (journaled) and destroyed on their worker. `busy` ones stay busy until their frontend releases
 * them here (a release of an unknown id is ignored); idle ones are handed out again: warm
 * sandboxes stay in use. Provisioned targets are re-applied from the journal.
 *
 * Known caveats: a busy entry whose frontend never releases it (its acquire reply was lost with
 * the old leader, or the frontend died) stays busy until its worker goes (forgetWorker) or reports
 * it dead (kiln.env.dead).
 */
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { Clock, Logger } from "../../base/index.js";
import { AssignmentService, ScalingThrottledError, type WorkerFleet } from "../../assignment/index.js";
import { JournalWriter } from "./journal-io.js";
import type { PartitionState } from "./journal.js";
import { RPC_QUEUE, rpcSubject, toWireError, type AssignReply, type AssignRequest, type StatusReply } from "./protocol.js";

export interface PartitionLeaderOptions<Spec> {
  nc: NatsConnection;
  partition: number;
  term: number;
  fleet: WorkerFleet<Spec>;
  clock: Clock;
  keepAliveMs: number;
  log: Logger;
}

const noSpec = (): never => {
  throw new Error("a warm-only acquire has no spec");
};

export class PartitionLeader<Spec> {
  readonly service: AssignmentService<Spec>;
  private readonly writer: JournalWriter<Spec>;
  private sub: Subscription | undefined;

  constructor(
    private readonly opts: PartitionLeaderOptions<Spec>,
    private readonly replayed: PartitionState<Spec>,
  ) {
    this.service = new AssignmentService<Spec>({ fleet: opts.fleet, clock: opts.clock, keepAliveMs: opts.keepAliveMs, log: opts.log });
    this.writer = new JournalWriter<Spec>(opts.nc, opts.partition, opts.term, opts.clock, opts.log, replayed.tombstones);
  }

  /** Restores the replayed table, settles what the old leader left half-done, serves RPC. */
  start(): void {
    const table = this.service.table;
    table.restore(this.replayed.entries.values());
    table.onChange = (id, entry) => this.writer.environment(id, entry);
    for (const e of table.all()) {
      if (e.state !== "initializing") continue;
      table.remove(e.id);
      void this.opts.fleet.destroyEnvironment(e.workerId, e.id).catch(() => undefined);
    }
    for (const [configKey, t] of this.replayed.targets) this.service.setProvisioned(configKey, { count: t.count, memoryMB: t.memoryMB, spec: () => t.spec });
    this.service.start();
    this.sub = this.opts.nc.subscribe(rpcSubject(this.opts.partition), {
      queue: RPC_QUEUE,
      callback: (err, msg) => {
        if (err) return;
        void this.handle(msg.json<AssignRequest<Spec>>()).then(
          (r) => msg.respond(JSON.stringify(r)),
          () => undefined,
        );
      },
    });
  }

  private async handle(req: AssignRequest<Spec>): Promise<AssignReply> {
    try {
      return { ok: true, result: await this.apply(req), term: this.opts.term };
    } catch (e) {
      return { ok: false, error: toWireError(e), term: this.opts.term };
    }
  }

  private async apply(req: AssignRequest<Spec>): Promise<unknown> {
    const s = this.service;
    switch (req.op) {
      case "acquire":
        if (req.warmOnly) {
          return s.acquire(req.configKey, req.memoryMB, noSpec, () => false).catch((e: unknown) => {
            if (e instanceof ScalingThrottledError) return null;
            throw e;
          });
        }
        return s.acquire(req.configKey, req.memoryMB, () => req.spec, () => true);
      case "release":
        s.release(req.lease, req.healthy);
        return null;
      case "drain":
        s.drain(req.scope);
        return null;
      case "setProvisioned": {
        const t = req.target && req.target.count > 0 ? req.target : undefined;
        s.setProvisioned(req.configKey, t ? { count: t.count, memoryMB: t.memoryMB, spec: () => t.spec } : undefined);
        this.writer.target(req.configKey, t);
        return null;
      }
      case "ping":
        return null;
      case "provisionedStatus": {
        const out: StatusReply = {};
        for (const k of req.configKeys) out[k] = s.provisionedStatus(k);
        return out;
      }
    }
  }

  /** A worker's heartbeat expired: its environments leave the table (journaled). */
  forgetWorker(workerId: string): number {
    let n = 0;
    for (const e of this.service.table.all()) {
      if (e.workerId !== workerId) continue;
      this.service.table.remove(e.id);
      n++;
    }
    return n;
  }

  /** A worker reported one environment gone. */
  environmentGone(workerId: string, environmentId: string): boolean {
    const e = this.service.table.get(environmentId);
    if (!e || e.workerId !== workerId) return false;
    this.service.table.remove(environmentId);
    return true;
  }

  /** Stops serving without touching any environment; waits for the journal to be stored. */
  async stop(): Promise<void> {
    this.sub?.unsubscribe();
    this.sub = undefined;
    this.service.stop();
    this.service.table.onChange = undefined;
    await this.writer.flush();
    this.writer.close();
  }
}
