/**
 * An assignment node: takes part in the leader election of every partition, leads the ones it
 * wins (PartitionLeader), and replays the journal of the others (JournalReplica) so it can take
 * any of them over with the full table.
 *
 * Each partition runs its own loop every lease/3: a leader renews its KV entry with CAS (a failed
 * renew steps down at once); a follower reads the entry and, per election.ts, follows, creates it
 * or takes an expired one over. On winning, the node waits for its replica to reach the
 * partition's last journal message (bounded by lease/2), then restores the table and subscribes
 * to the partition's RPC subject. On close it stops serving, flushes its journal, and deletes its
 * leader entries (CAS) so followers take over at their next poll instead of after the lease.
 *
 * `kiln.env.dead` ({workerId, environmentId}) is subscribed here: the leader of the
 * environment's partition drops it. `forgetWorker` is for the node composition to call when a
 * worker's heartbeat expires.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { Clock, Logger } from "../../base/index.js";
import type { EnvironmentEntry, WorkerFleet } from "../../assignment/index.js";
import { DEFAULT_LEASE_MS, decide, leaderKey, leaderRecordOf, parseLeaderRecord, type Holding, type LeaderRecord, type SeenEntry } from "./election.js";
import { ensureAssignStream, JournalReplica } from "./journal-io.js";
import { readBucket } from "../kv-scan.js";
import { writeIfUnchanged } from "../kv-claim.js";
import { PartitionLeader } from "./leader.js";

export const LEADERS_BUCKET = "kiln-leaders";
export const ENV_DEAD_SUBJECT = "kiln.env.dead";

export interface AssignmentNodeOptions<Spec> {
  nc: NatsConnection;
  nodeId: string;
  partitions: number;
  replicas: number;
  fleet: WorkerFleet<Spec>;
  clock: Clock;
  keepAliveMs: number;
  log: Logger;
  /** Leader lease (default 3 s): takeover within lease + lease/3. */
  leaseMs?: number;
}

export interface AssignmentNode {
  /** Partition -> node id of its current (unexpired, as last seen) leader. */
  leaders(): Map<number, string>;
  isLeader(partition: number): boolean;
  /** A worker's heartbeat expired: every partition led here drops its environments. */
  forgetWorker(workerId: string): void;
  /** A worker reported an environment gone (also arrives on kiln.env.dead). */
  environmentGone(workerId: string, environmentId: string): void;
  /** The leader of a partition led here (tests, status). */
  leaderOf(partition: number): PartitionLeader<unknown> | undefined;
  /** A partition's table as this node holds it: led (live) or replayed from the journal. */
  tableOf(partition: number): EnvironmentEntry[];
  close(): Promise<void>;
}

/** Opens bucket kiln-leaders, creating it with a TTL a few leases long so dead entries go away. */
export async function openLeadersBucket(nc: NatsConnection, replicas: number, leaseMs = DEFAULT_LEASE_MS): Promise<KV> {
  const kvm = new Kvm(nc);
  const jsm = await jetstreamManager(nc);
  const exists = await jsm.streams.info(`KV_${LEADERS_BUCKET}`).then(
    () => true,
    () => false,
  );
  if (exists) return kvm.open(LEADERS_BUCKET);
  // Another node may create it at the same moment with the same settings: create is idempotent then.
  return kvm.create(LEADERS_BUCKET, { replicas, history: 1, ttl: Math.max(10_000, leaseMs * 5) });
}

async function read(kv: KV, key: string): Promise<{ seen?: SeenEntry; term?: number }> {
  const e = await kv.get(key);
  if (!e || e.operation !== "PUT") return {};
  const record = parseLeaderRecord(e.value);
  return record ? { seen: { record, revision: e.revision }, term: record.term } : {};
}

/** Every partition's leader entry, for `kiln cluster status` (expired entries included: compare expiresAt). */
export async function readPartitionLeaders(nc: NatsConnection): Promise<Array<{ partition: number; nodeId: string; term: number; expiresAt: number }>> {
  const out: Array<{ partition: number; nodeId: string; term: number; expiresAt: number }> = [];
  for (const { key, value } of await readBucket<unknown>(nc, LEADERS_BUCKET)) {
    const m = /^p(\d+)$/.exec(key);
    const record = m ? leaderRecordOf(value) : undefined;
    if (m && record) out.push({ partition: Number(m[1]), ...record });
  }
  return out.sort((a, b) => a.partition - b.partition);
}

interface PartitionSlot<Spec> {
  partition: number;
  holding?: Holding;
  leader?: PartitionLeader<Spec>;
  replica?: JournalReplica<Spec>;
  observed?: LeaderRecord;
  lastTerm: number;
  timer?: NodeJS.Timeout;
  busy: boolean;
}

export async function startAssignmentNode<Spec>(opts: AssignmentNodeOptions<Spec>): Promise<AssignmentNode> {
  const leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
  const { nc, log, clock } = opts;
  const jsm = await jetstreamManager(nc);
  await ensureAssignStream(jsm, opts.replicas);
  const kv = await openLeadersBucket(nc, opts.replicas, leaseMs);
  let closed = false;

  const slots: Array<PartitionSlot<Spec>> = Array.from({ length: opts.partitions }, (_, partition) => ({ partition, lastTerm: 0, busy: false }));

  const follow = (slot: PartitionSlot<Spec>) => {
    if (slot.replica?.alive) return;
    slot.replica = JournalReplica.start<Spec>(nc, slot.partition, log);
  };

  const stepDown = async (slot: PartitionSlot<Spec>, reason: string) => {
    const leader = slot.leader;
    slot.leader = undefined;
    slot.holding = undefined;
    if (leader) {
      (reason === "closing" ? log.info : log.warn)("assignment partition leadership ended", { partition: slot.partition, nodeId: opts.nodeId, reason });
      await leader.stop().catch(() => undefined);
    }
    if (!closed) follow(slot);
  };

  const lead = async (slot: PartitionSlot<Spec>, record: LeaderRecord, revision: number) => {
    slot.holding = { term: record.term, revision, expiresAt: record.expiresAt };
    slot.lastTerm = record.term;
    slot.observed = record;
    const replica = slot.replica?.alive ? slot.replica : JournalReplica.start<Spec>(nc, slot.partition, log);
    slot.replica = undefined;
    const complete = await replica.caughtUp(Math.floor(leaseMs / 2)).catch(() => false);
    await replica.stop();
    if (!complete) log.warn("assignment takeover before the journal replay completed", { partition: slot.partition });
    const leader = new PartitionLeader<Spec>({ nc, partition: slot.partition, term: record.term, fleet: opts.fleet, clock, keepAliveMs: opts.keepAliveMs, log }, replica.state);
    leader.start();
    slot.leader = leader;
    log.info("assignment partition leader", { partition: slot.partition, nodeId: opts.nodeId, term: record.term, environments: replica.state.entries.size });
  };

  const tick = async (slot: PartitionSlot<Spec>) => {
    const now = clock.now();
    if (slot.holding) {
      const action = decide({ self: opts.nodeId, now, leaseMs, holding: slot.holding });
      if (action.kind === "step-down") return stepDown(slot, action.reason);
      if (action.kind !== "renew") return;
      try {
        const revision = await writeIfUnchanged(nc, LEADERS_BUCKET, leaderKey(slot.partition), JSON.stringify(action.record), action.revision);
        if (revision === undefined) return stepDown(slot, "renew-rejected");
        if (slot.holding) slot.holding = { term: action.record.term, revision, expiresAt: action.record.expiresAt };
        slot.observed = action.record;
      } catch (e) {
        log.debug("leader renew failed; retrying", { partition: slot.partition, error: String(e) });
      }
      return;
    }
    const { seen, term } = await read(kv, leaderKey(slot.partition));
    if (term !== undefined) slot.lastTerm = Math.max(slot.lastTerm, term);
    const action = decide({ self: opts.nodeId, now, leaseMs, lastTerm: slot.lastTerm, ...(seen ? { seen } : {}) });
    if (action.kind === "follow") {
      slot.observed = action.leader;
      follow(slot);
      return;
    }
    if (action.kind !== "create" && action.kind !== "takeover") return;
    const revision = await writeIfUnchanged(nc, LEADERS_BUCKET, leaderKey(slot.partition), JSON.stringify(action.record), action.kind === "create" ? 0 : action.revision).catch(() => undefined);
    if (revision === undefined) {
      follow(slot); // another node won the race
      return;
    }
    await lead(slot, action.record, revision);
  };

  const schedule = (slot: PartitionSlot<Spec>, delayMs: number) => {
    if (closed) return;
    slot.timer = setTimeout(() => {
      slot.busy = true;
      tick(slot)
        .catch((e: unknown) => log.debug("assignment election tick failed", { partition: slot.partition, error: String(e) }))
        .finally(() => {
          slot.busy = false;
          schedule(slot, Math.floor(leaseMs / 3));
        });
    }, delayMs);
  };

  for (const slot of slots) {
    follow(slot);
    schedule(slot, 0);
  }

  const led = () => slots.filter((s) => s.leader !== undefined);
  const environmentGone = (workerId: string, environmentId: string) => {
    for (const s of led()) s.leader!.environmentGone(workerId, environmentId);
  };
  const deadSub: Subscription = nc.subscribe(ENV_DEAD_SUBJECT, {
    callback: (err, msg) => {
      if (err) return;
      try {
        const v = msg.json<{ workerId?: unknown; environmentId?: unknown }>();
        if (typeof v.workerId === "string" && typeof v.environmentId === "string") environmentGone(v.workerId, v.environmentId);
      } catch {
        /* not ours */
      }
    },
  });

  return {
    leaders: () => {
      const now = clock.now();
      const out = new Map<number, string>();
      for (const s of slots) {
        if (s.leader) out.set(s.partition, opts.nodeId);
        else if (s.observed && s.observed.expiresAt > now) out.set(s.partition, s.observed.nodeId);
      }
      return out;
    },
    isLeader: (p) => slots[p]?.leader !== undefined,
    forgetWorker: (workerId) => {
      for (const s of led()) s.leader!.forgetWorker(workerId);
    },
    environmentGone,
    leaderOf: (p) => slots[p]?.leader as PartitionLeader<unknown> | undefined,
    tableOf: (p) => {
      const s = slots[p];
      if (s?.leader) return s.leader.service.table.all().map((e) => ({ ...e }));
      return [...(s?.replica?.state.entries.values() ?? [])].map((e) => ({ ...e }));
    },
    close: async () => {
      closed = true;
      try {
        deadSub.unsubscribe();
      } catch {
        /* connection already closed */
      }
      for (const s of slots) if (s.timer) clearTimeout(s.timer);
      while (slots.some((s) => s.busy)) await new Promise((r) => setTimeout(r, 10));
      await Promise.all(
        slots.map(async (s) => {
          const holding = s.holding;
          await stepDown(s, "closing");
          await s.replica?.stop();
          s.replica = undefined;
          // Hand over at once: followers see no entry at their next poll.
          if (holding) await kv.delete(leaderKey(s.partition), { previousSeq: holding.revision }).catch(() => undefined);
        }),
      );
    },
  };
}

