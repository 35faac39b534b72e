/**
 * AsyncEventQueue on NATS JetStream, for the cluster mode: several poller processes on different
 * nodes lease from the same lanes concurrently, each event leased by one poller at a time.
 *
 * Layout (names in `names.ts`):
 * - stream `KILN_ASYNC`, work-queue retention, subjects `kiln.async.<lane token>` (one per lane),
 *   replicated `replicas` times; an event is one message: the payload as body, its id, target,
 *   source and receivedAt as headers, published with `Nats-Msg-Id` = the event id;
 * - one durable pull consumer per lane (named by the lane token, created on the first lease,
 *   bound when it exists) with AckWait = the lease; explicit acks;
 * - KV `kiln-async-counters`: `c.<lane>.<instance>` counters and `d.<lane>.<instance>` recent drops
 *   (bounded list) of each queue instance (random id per open), each key written by its instance
 *   only and summed on read (`counters.ts` says why: compare-and-set is not safe on a replicated
 *   bucket of nats-server 2.9.10); `l.<lane>.<seq>` the lease record of a stored message. The
 *   queue reads the bucket through the stream leader (`kv-read.ts`), not with direct gets that a
 *   lagging replica may answer, so a read sees every write acknowledged before it.
 *
 * Algorithm:
 * - enqueue publishes every event and resolves once JetStream acked each publish (stored on a
 *   quorum of the replicas). A publish that times out (a leader election) is sent again; the
 *   dedupe on `Nats-Msg-Id` turns the second copy into "duplicate", taken as success since it was
 *   ours. A duplicate on the first try means the id was accepted before: that enqueue rejects
 *   (`DuplicateEventError`), as the contract wants. The dedupe window is the stream's (2 min).
 * - lease(lane, n) pulls up to n deliveries with a short expiry (`fetchWaitMs`, 50 ms by default,
 *   below the client library's 1 s minimum, hence the raw pull in `pull.ts`), so a lease never
 *   blocks long. Each delivery is decided by `records.ts`: a copy whose retry is not due is NAK'd
 *   with the remaining delay (not a lease, not counted); otherwise its lease record is written
 *   (delivery count, lease end) before it is handed out, and it counts `redelivered` when the
 *   previous lease handed out was never settled.
 * - JetStream cannot edit a stored message, so the retry state is not in the message: retryAt
 *   writes it into the lease record (attempts, backoffs, lastError, visibleAt) and NAKs the
 *   delivery with delay `at - clock.now()`. The event keeps its stream sequence (so "oldest
 *   first" holds across retries) and no second copy exists at any moment. (Republishing an updated
 *   copy, the other option, would need a new `Nats-Msg-Id` per copy and leaves a window with two
 *   copies; a copy delivered early would need a NAK anyway.)
 * - receipts are `seq * 65536 + deliveryCount`: a later delivery of the same message, or the
 *   retried event, has a greater receipt. A lease settles only from the process that leased it
 *   (the live delivery is kept in memory by receipt) and only while its lease runs with a margin
 *   (`settleMarginMs`): JetStream accepts an ack for a sequence even after AckWait expired and the
 *   message went to another consumer client, which would settle the other poller's lease; we
 *   never send such an ack, so a stale lease returns false and changes nothing.
 * - settling publishes the follow-ups (dedupe by their ids), adds the counters, records the drop,
 *   and only then acks (ack, dead) or NAKs (retryAt) and waits for the server's confirmation
 *   (double ack). Each step is idempotent or harmless to repeat; a crash between them leaves the
 *   lease to expire and the event to run again (a counted redelivery): never a lost event, at
 *   worst a repeated follow-up or counter increment.
 * - lanes(now) reads the per-subject counts of the stream, the first message of each lane (for
 *   oldestReceivedAt) and the lease records: a message without a record was never leased and is
 *   ready; a record is in flight while its lease runs, waiting while its retry is not due, ready
 *   otherwise (expired leases show as ready, so a scan finds work a crashed node left).
 *
 * Worked example: poller A leases event e (seq 7, delivery 1): record l.<lane>.7 = {leasedDc 1,
 * leaseUntil t+16min}; receipt 7*65536+1. A dies. After AckWait JetStream redelivers seq 7 to
 * poller B as delivery 2: the record says delivery 1 was leased and never settled, so B counts
 * `redelivered` and writes {leasedDc 2}. B's function throws: retryAt(t+60s) writes {settledDc 2,
 * visibleAt t+60s, attempts 1} and NAKs with 60 s delay; delivery 3 a minute later is a lease, not
 * a redelivery.
 *
 * Caveats: the `now` given to lease decides visibility, but JetStream's timers (AckWait, NAK
 * delays) run on the servers' real time, so a lease's expiry and a retry's delay are real
 * durations from the moment they were asked for. AckWait is per consumer: a lease with another
 * `leaseMs` than the consumer's updates the consumer (all pollers use the fleet's one value). A
 * crash between an ack and the deletion of its lease record leaves a stale record; records below a
 * lane's first stored sequence are ignored by summaries. Lease records are written with plain puts
 * by whoever holds the delivery (JetStream gives a delivery to one client at a time), never by
 * compare-and-set, which nats-server 2.9.10 does not serialize on a replicated bucket.
 */
import { randomBytes } from "node:crypto";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import { systemClock, type Clock } from "../../base/index.js";
import {
  laneOf,
  zeroCounters,
  type AsyncEventQueue,
  type DroppedEvent,
  type EventSource,
  type EventTarget,
  type LaneStats,
  type LaneSummary,
  type LeaseRef,
  type LeasedEvent,
  type NewEvent,
  type RetryChange,
  type Settlement,
} from "../contract.js";
import { addCounters, newestDrops, OwnedRecords, sumCounters, withDrop, type CounterDelta } from "./counters.js";
import { DEFAULT_NAMES, laneOfToken, laneSubject, laneToken, receiptOf, recordFilter, recordKey, counterKey, counterFilter, dropsKey, dropsFilter, isInstanceId, type QueueNames } from "./names.js";
import { readKey, readKeys } from "./kv-read.js";
import { acknowledge, pull, type Delivery } from "./pull.js";
import { onDelivery, retried, summarize, type LeaseRecord } from "./records.js";

export interface NatsQueueOptions {
  /** Copies of the stream and the KV bucket (1 for one server, 3 for a 3-node cluster). */
  replicas: number;
  clock?: Clock;
  /** Stream name (default `KILN_ASYNC`). */
  stream?: string;
  /** Subject prefix (default `kiln.async`): must not overlap another stream's subjects. */
  prefix?: string;
  /** KV bucket of counters, drops and lease records (default `kiln-async-counters`). */
  bucket?: string;
  /** How long a lease waits for deliveries when fewer than asked are there (default 50 ms). */
  fetchWaitMs?: number;
  /** How long enqueue keeps retrying a publish that got no answer (default 15 s). */
  publishRetryMs?: number;
  /** This instance's id in its counter and drop keys (default: 16 random hex digits); unique per open. */
  instanceId?: string;
}

/** The event id was accepted before: it is not enqueued twice. */
export class DuplicateEventError extends Error {
  constructor(readonly eventId: string) {
    super(`event ${eventId} is already queued`);
    this.name = "DuplicateEventError";
  }
}

const H = { id: "Kiln-Event-Id", target: "Kiln-Target", source: "Kiln-Source", receivedAt: "Kiln-Received-At" } as const;
const SOURCES: readonly EventSource[] = ["invoke", "destination", "dead-letter"];

interface LiveLease {
  id: string;
  lane: string;
  seq: number;
  dc: number;
  reply: string;
  record: LeaseRecord;
  /** clock.monotonic() after which this process no longer settles the lease. */
  settleBy: number;
}

export class NatsAsyncQueue implements AsyncEventQueue {
  private readonly js: JetStreamClient;
  private readonly owned: OwnedRecords;
  /** This instance's id: the last token of the counter and drop keys it alone writes. */
  readonly instanceId: string;
  private readonly clock: Clock;
  private readonly consumers = new Map<string, Promise<number>>();
  private readonly live = new Map<string, LiveLease>();
  private closed = false;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly kv: KV,
    readonly names: QueueNames,
    private readonly opts: NatsQueueOptions,
  ) {
    this.js = jetstream(nc);
    this.owned = new OwnedRecords(kv);
    this.clock = opts.clock ?? systemClock;
    this.instanceId = opts.instanceId ?? randomBytes(8).toString("hex");
    if (!isInstanceId(this.instanceId)) throw new Error(`invalid queue instance id ${JSON.stringify(this.instanceId)}`);
  }

  static async open(nc: NatsConnection, opts: NatsQueueOptions): Promise<NatsAsyncQueue> {
    const names: QueueNames = { stream: opts.stream ?? DEFAULT_NAMES.stream, prefix: opts.prefix ?? DEFAULT_NAMES.prefix, bucket: opts.bucket ?? DEFAULT_NAMES.bucket };
    const jsm = await jetstreamManager(nc);
    const config = {
      name: names.stream,
      subjects: [`${names.prefix}.>`],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      num_replicas: opts.replicas,
      allow_direct: true,
    };
    try {
      await jsm.streams.info(names.stream);
    } catch (err) {
      if (!/not found/i.test(String((err as Error).message))) throw err;
      try {
        await jsm.streams.add(config);
      } catch (e) {
        if (!/already in use|already exists/i.test(String((e as Error).message))) throw e; // another node won the race
      }
    }
    const kv = await new Kvm(nc).create(names.bucket, { replicas: opts.replicas, history: 1 });
    return new NatsAsyncQueue(nc, jsm, kv, names, opts);
  }

  // ---- enqueue ----

  async enqueue(events: NewEvent[]): Promise<void> {
    this.open();
    await Promise.all(events.map((e) => this.publish(e)));
    const received = new Map<string, number>();
    for (const e of events) received.set(laneOf(e.target), (received.get(laneOf(e.target)) ?? 0) + 1);
    await Promise.all([...received].map(([lane, n]) => this.count(lane, { received: n })));
  }

  /** Publishes one event; `again` marks a settle's follow-up, which may already be stored by an earlier try. */
  private async publish(e: NewEvent, again = false): Promise<void> {
    const h = natsHeaders();
    h.set(H.id, e.id);
    h.set(H.target, JSON.stringify(e.target));
    h.set(H.source, e.source);
    h.set(H.receivedAt, String(e.receivedAt));
    const until = this.clock.monotonic() + (this.opts.publishRetryMs ?? 15_000);
    for (let attempt = 0; ; attempt++) {
      try {
        const ack = await this.js.publish(laneSubject(this.names, laneOf(e.target)), e.payload, { msgID: e.id, headers: h, timeout: 5000 });
        if (ack.duplicate && attempt === 0 && !again) throw new DuplicateEventError(e.id);
        return;
      } catch (err) {
        if (err instanceof DuplicateEventError || this.clock.monotonic() > until || !retryable(err)) throw err;
        await sleep(Math.min(250 * 2 ** attempt, 2000));
      }
    }
  }

  // ---- lease ----

  async lease(lane: string, n: number, now: number, leaseMs: number): Promise<LeasedEvent[]> {
    this.open();
    if (n <= 0) return [];
    const token = await this.consumer(lane, leaseMs);
    const got = await pull(this.nc, this.names.stream, token, n, this.opts.fetchWaitMs ?? 50);
    const decided = await Promise.all(got.map((d) => this.take(lane, d, now, leaseMs)));
    const out = decided.filter((e): e is LeasedEvent => e !== undefined).sort((a, b) => a.receipt - b.receipt);
    const redelivered = out.filter((e) => e.redelivered).length;
    if (redelivered > 0) await this.count(lane, { redelivered });
    return out;
  }

  /** Decides one delivery: a lease (record written first), or an early copy NAK'd until its time. */
  private async take(lane: string, d: Delivery, now: number, leaseMs: number): Promise<LeasedEvent | undefined> {
    const ev = decodeEvent(d);
    try {
      const rec = d.deliveryCount > 1 ? await this.record(lane, d.seq) : undefined;
      const decision = onDelivery(rec, d.deliveryCount, ev.receivedAt, now, leaseMs);
      if (decision.kind === "early") {
        await acknowledge(this.nc, d.reply, { nakDelayMs: Math.max(1, decision.visibleAt - this.clock.now()) });
        return undefined;
      }
      await this.kv.put(recordKey(lane, d.seq), JSON.stringify(decision.record));
      const receipt = receiptOf(d.seq, d.deliveryCount);
      for (const [k, l] of this.live) if (l.lane === lane && l.seq === d.seq) this.live.delete(k); // an older delivery of ours
      const margin = Math.min(2000, leaseMs / 10);
      this.live.set(liveKey(lane, receipt), { id: ev.id, lane, seq: d.seq, dc: d.deliveryCount, reply: d.reply, record: decision.record, settleBy: this.clock.monotonic() + leaseMs - margin });
      const leased: LeasedEvent = { ...ev, lane, attempts: decision.record.attempts, backoffs: decision.record.backoffs, receipt, redelivered: decision.redelivered };
      if (decision.record.lastError !== undefined) leased.lastError = decision.record.lastError;
      return leased;
    } catch {
      // Not handed out: let JetStream deliver it again right away (a NAK is not a lease).
      await acknowledge(this.nc, d.reply, { nakDelayMs: 0 }).catch(() => undefined);
      return undefined;
    }
  }

  /** The lane's durable pull consumer (AckWait = leaseMs): created on demand, bound if it exists. */
  private async consumer(lane: string, leaseMs: number): Promise<string> {
    const token = laneToken(lane);
    const known = this.consumers.get(lane);
    if (known && (await known.catch(() => -1)) === leaseMs) return token;
    const ensure = (async () => {
      const ackWait = Math.round(leaseMs * 1e6);
      try {
        const info = await this.jsm.consumers.info(this.names.stream, token);
        if (info.config.ack_wait !== ackWait) await this.jsm.consumers.update(this.names.stream, token, { ack_wait: ackWait });
      } catch (err) {
        if (!/not found/i.test(String((err as Error).message))) throw err;
        await this.jsm.consumers.add(this.names.stream, {
          durable_name: token,
          filter_subject: laneSubject(this.names, lane),
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
          ack_wait: ackWait,
          max_deliver: -1,
          max_ack_pending: -1,
        });
      }
      return leaseMs;
    })();
    this.consumers.set(lane, ensure);
    await ensure.catch((err) => {
      this.consumers.delete(lane);
      throw err;
    });
    return token;
  }

  // ---- settle ----

  async ack(l: LeaseRef, s?: Settlement): Promise<boolean> {
    const live = this.claim(l);
    if (!live) return false;
    await this.settle(live, s);
    await acknowledge(this.nc, live.reply, "+ACK");
    await this.kv.delete(recordKey(live.lane, live.seq)).catch(() => undefined);
    return true;
  }

  async retryAt(l: LeaseRef, at: number, change: RetryChange, s?: Settlement): Promise<boolean> {
    const live = this.claim(l);
    if (!live) return false;
    await this.settle(live, s);
    await this.kv.put(recordKey(live.lane, live.seq), JSON.stringify(retried(live.record, live.dc, at, change)));
    await acknowledge(this.nc, live.reply, { nakDelayMs: Math.max(0, at - this.clock.now()) });
    return true;
  }

  async dead(l: LeaseRef, reason: string, now: number, s?: Settlement): Promise<boolean> {
    const live = this.claim(l);
    if (!live) return false;
    const drop: DroppedEvent = { id: live.id, reason, droppedAt: now, attempts: s?.attempts ?? live.record.attempts };
    await this.settle(live, s);
    await this.owned.change<DroppedEvent[]>(dropsKey(live.lane, this.instanceId), () => [], (list) => withDrop(list, drop));
    await acknowledge(this.nc, live.reply, "+ACK");
    await this.kv.delete(recordKey(live.lane, live.seq)).catch(() => undefined);
    return true;
  }

  /** The live lease of this process for `l`, taken out of the table; undefined when stale. */
  private claim(l: LeaseRef): LiveLease | undefined {
    this.open();
    const key = liveKey(l.lane, l.receipt);
    const live = this.live.get(key);
    if (!live || live.id !== l.id) return undefined;
    this.live.delete(key);
    return this.clock.monotonic() <= live.settleBy ? live : undefined;
  }

  private async settle(live: LiveLease, s: Settlement | undefined): Promise<void> {
    const followUps = s?.followUps ?? [];
    await Promise.all(followUps.map((e) => this.publish(e, true)));
    const received = new Map<string, number>();
    for (const e of followUps) received.set(laneOf(e.target), (received.get(laneOf(e.target)) ?? 0) + 1);
    await Promise.all([...[...received].map(([lane, n]) => this.count(lane, { received: n })), this.count(live.lane, s?.counters ?? {})]);
  }

  /** Adds to this instance's counters of the lane (stored by its own key; see counters.ts). */
  private count(lane: string, delta: CounterDelta): Promise<void> {
    if (!Object.values(delta).some((n) => n)) return Promise.resolve();
    return this.owned.change(counterKey(lane, this.instanceId), zeroCounters, (c) => addCounters(c, delta));
  }

  // ---- figures ----

  async lanes(now: number): Promise<LaneSummary[]> {
    this.open();
    const info = await this.jsm.streams.info(this.names.stream, { subjects_filter: `${this.names.prefix}.>` });
    const subjects = Object.entries(info.state.subjects ?? {}).filter(([, n]) => n > 0);
    const records = await this.records();
    return Promise.all(subjects.map(([subject, depth]) => this.summary(laneOfToken(subject.slice(this.names.prefix.length + 1)), depth, records, now)));
  }

  async stats(lane: string, now: number): Promise<LaneStats> {
    this.open();
    const subject = laneSubject(this.names, lane);
    const info = await this.jsm.streams.info(this.names.stream, { subjects_filter: subject });
    const [summary, counters, drops] = await Promise.all([
      this.summary(lane, info.state.subjects?.[subject] ?? 0, await this.records(lane), now),
      this.values(counterFilter(lane)),
      this.values(dropsFilter(lane)),
    ]);
    return { ...summary, counters: sumCounters(counters), recentDrops: newestDrops(drops) };
  }

  /** The current values of the keys matching `filter` (every instance's record of a lane), read through the leader. */
  private async values(filter: string): Promise<unknown[]> {
    return (await readKeys(this.jsm, this.names.bucket, filter)).map((r) => r.value);
  }

  private async summary(lane: string, depth: number, records: Map<string, Array<{ seq: number; rec: LeaseRecord }>>, now: number): Promise<LaneSummary> {
    if (depth === 0) return summarize(lane, 0, undefined, [], now);
    const first = await this.firstMessage(lane);
    const mine = (records.get(lane) ?? []).filter((r) => first === undefined || r.seq >= first.seq).map((r) => r.rec);
    return summarize(lane, depth, first?.receivedAt, mine, now);
  }

  private async firstMessage(lane: string): Promise<{ seq: number; receivedAt: number } | undefined> {
    try {
      const m = await this.jsm.direct.getMessage(this.names.stream, { next_by_subj: laneSubject(this.names, lane), seq: 0 });
      if (!m) return undefined;
      return { seq: m.seq, receivedAt: Number(m.header.get(H.receivedAt)) };
    } catch {
      return undefined;
    }
  }

  /** The lease record of a stored message, read through the leader (a replica may not have the last write yet). */
  private async record(lane: string, seq: number): Promise<LeaseRecord | undefined> {
    return (await readKey(this.jsm, this.names.bucket, recordKey(lane, seq))) as LeaseRecord | undefined;
  }

  /** Lease records by lane (of one lane, or all). */
  private async records(lane?: string): Promise<Map<string, Array<{ seq: number; rec: LeaseRecord }>>> {
    const out = new Map<string, Array<{ seq: number; rec: LeaseRecord }>>();
    for (const { key, value } of await readKeys(this.jsm, this.names.bucket, recordFilter(lane))) {
      const [, token, seq] = key.split(".");
      const l = laneOfToken(token!);
      if (!out.has(l)) out.set(l, []);
      out.get(l)!.push({ seq: Number(seq), rec: value as LeaseRecord });
    }
    return out;
  }

  /** Forgets this process's leases (they expire on the servers); the connection is the caller's. */
  async close(): Promise<void> {
    this.closed = true;
    this.live.clear();
    this.owned.close();
  }

  private open(): void {
    if (this.closed) throw new Error("the async queue is closed");
  }
}

/** Opens (creating if needed) the JetStream queue: stream, KV bucket; consumers come with the first lease of a lane. */
export function openNatsQueue(nc: NatsConnection, opts: NatsQueueOptions): Promise<NatsAsyncQueue> {
  return NatsAsyncQueue.open(nc, opts);
}

const liveKey = (lane: string, receipt: number): string => `${lane}\n${receipt}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function retryable(err: unknown): boolean {
  const m = String((err as Error)?.message ?? err);
  return /timeout|no responders|503|disconnect|connection|leader/i.test(m);
}

function decodeEvent(d: Delivery): NewEvent {
  const h = d.headers;
  const source = h?.get(H.source) as EventSource;
  return {
    id: h?.get(H.id) ?? "",
    target: JSON.parse(h?.get(H.target) || "{}") as EventTarget,
    payload: Buffer.from(d.data),
    receivedAt: Number(h?.get(H.receivedAt) ?? 0),
    source: SOURCES.includes(source) ? source : "invoke",
  };
}
