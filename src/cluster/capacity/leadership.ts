/**
 * Leadership of one cluster-wide duty (the capacity manager: key `capacity` in KV `kiln-leaders`),
 * by the same lease with compare-and-set as the assignment partitions: the decision is
 * cluster/assignment's election `decide()`; this is its I/O loop for a single key.
 *
 * Every lease/3 the loop reads the entry (follower) or renews it with CAS (leader). Winning calls
 * `onLead()`; a failed renew (someone else wrote the entry) or a renew impossible before our own
 * expiry calls `onLose()`. stop() gives the duty up and deletes the entry (CAS), so another node
 * takes over at its next poll instead of after the lease.
 *
 * Worked example (lease 3 s): control nodes c1 and c2 start; c1 creates `capacity` {c1, term 1}
 * and runs the manager; c2 reads it every second and follows. c1 is killed: its entry expires
 * 3 s after its last renew; c2's next read takes it over {c2, term 2} with CAS -> c2 runs the
 * manager, at most lease + lease/3 = 4 s after c1's last renew.
 *
 * Known caveats: as for partitions, expiry is judged by wall clocks; for a split-brain window of
 * one renew interval two managers may both act (each of its own provider's workers: a local
 * provider only manages the processes it started).
 */
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { writeIfUnchanged } from "../kv-claim.js";
import type { Clock, Logger } from "../../base/index.js";
import { DEFAULT_LEASE_MS, LEADERS_BUCKET, decide, parseLeaderRecord, type Holding, type SeenEntry } from "../assignment/index.js";

export const CAPACITY_LEADER_KEY = "capacity";

export interface DutyLeadershipOptions {
  nc: NatsConnection;
  /** KV `kiln-leaders` (openLeadersBucket). */
  kv: KV;
  key: string;
  nodeId: string;
  clock: Clock;
  log: Logger;
  leaseMs?: number;
  onLead(): void;
  onLose(reason: string): void;
}

export class DutyLeadership {
  private holding: Holding | undefined;
  private lastTerm = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly leaseMs: number;

  constructor(private readonly opts: DutyLeadershipOptions) {
    this.leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
  }

  get leading(): boolean {
    return this.holding !== undefined;
  }

  start(): void {
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .catch((e: unknown) => this.opts.log.debug("leadership tick failed", { key: this.opts.key, error: String(e) }))
        .finally(() => {
          this.running = undefined;
          this.schedule(Math.floor(this.leaseMs / 3));
        });
    }, delayMs);
  }

  /** One round of the election (the timer calls it; tests may too). */
  async tick(): Promise<void> {
    const { kv, key, nodeId: self, clock } = this.opts;
    const now = clock.now();
    if (this.holding) {
      const action = decide({ self, now, leaseMs: this.leaseMs, holding: this.holding });
      if (action.kind === "step-down") return this.lose(action.reason);
      if (action.kind !== "renew") return;
      try {
        const revision = await writeIfUnchanged(this.opts.nc, LEADERS_BUCKET, key, JSON.stringify(action.record), action.revision);
        if (revision === undefined) return this.lose("renew-rejected");
        if (this.holding) this.holding = { term: action.record.term, revision, expiresAt: action.record.expiresAt };
      } catch (e) {
        this.opts.log.debug("leadership renew failed; retrying", { key, error: String(e) });
      }
      return;
    }
    const seen = await read(kv, key);
    if (seen) this.lastTerm = Math.max(this.lastTerm, seen.record.term);
    const action = decide({ self, now, leaseMs: this.leaseMs, lastTerm: this.lastTerm, ...(seen ? { seen } : {}) });
    if (action.kind !== "create" && action.kind !== "takeover") return;
    const revision = await writeIfUnchanged(this.opts.nc, LEADERS_BUCKET, key, JSON.stringify(action.record), action.kind === "create" ? 0 : action.revision).catch(() => undefined);
    if (revision === undefined) return; // another node won the race
    if (this.stopped) {
      await kv.delete(key, { previousSeq: revision }).catch(() => undefined);
      return;
    }
    this.holding = { term: action.record.term, revision, expiresAt: action.record.expiresAt };
    this.lastTerm = action.record.term;
    this.opts.log.info("took up a cluster duty", { key, nodeId: self, term: action.record.term });
    this.opts.onLead();
  }

  private lose(reason: string): void {
    if (!this.holding) return;
    this.holding = undefined;
    this.opts.log.warn("gave up a cluster duty", { key: this.opts.key, nodeId: this.opts.nodeId, reason });
    this.opts.onLose(reason);
  }

  /** Stops competing; a leader hands the duty over (onLose("closing"), then deletes the entry). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    const holding = this.holding;
    if (!holding) return;
    this.holding = undefined;
    this.opts.onLose("closing");
    await this.opts.kv.delete(this.opts.key, { previousSeq: holding.revision }).catch(() => undefined);
  }
}

async function read(kv: KV, key: string): Promise<SeenEntry | undefined> {
  const e = await kv.get(key);
  if (!e || e.operation !== "PUT") return undefined;
  const record = parseLeaderRecord(e.value);
  return record ? { record, revision: e.revision } : undefined;
}

