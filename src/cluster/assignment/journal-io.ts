/**
 * The assignment journal, I/O half: the leader's writer and a follower's replica of one partition.
 *
 * What waits and why:
 * - JournalWriter.environment / .target publish WITHOUT awaiting the stream's ack: the warm path
 *   (acquire, release) never waits on a replicated write. Order is kept because every publish of
 *   a partition goes out on one connection, and the stream stores messages in arrival order.
 *   A failed publish is logged; the entry is re-journaled on its next change.
 * - JournalWriter.flush awaits every outstanding publish: a leader stepping down or closing calls
 *   it so its last changes are stored before it lets go of the partition.
 * - JournalReplica.caughtUp (a takeover) waits until the replica has applied the partition's last
 *   stored message (looked up with last_by_subj on the partition filter), bounded by a timeout.
 */
import { jetstream, jetstreamManager, type ConsumerMessages, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Clock, Logger } from "../../base/index.js";
import type { EnvironmentEntry } from "../../assignment/index.js";
import { applyJournal, ASSIGN_STREAM, emptyPartitionState, environmentSubject, JOURNAL_ROOT, partitionFilter, targetSubject, type JournaledTarget, type PartitionState } from "./journal.js";

/** How long a tombstone stays in the stream before the leader purges it (followers must have seen it). */
export const TOMBSTONE_KEEP_MS = 60_000;

/** Creates stream KILN_ASSIGN if missing (one message per subject: the latest state). */
export async function ensureAssignStream(jsm: JetStreamManager, replicas: number): Promise<void> {
  try {
    await jsm.streams.info(ASSIGN_STREAM);
  } catch {
    await jsm.streams.add({ name: ASSIGN_STREAM, subjects: [`${JOURNAL_ROOT}.>`], max_msgs_per_subject: 1, num_replicas: replicas }).catch(async (e: unknown) => {
      // Another node created it meanwhile.
      await jsm.streams.info(ASSIGN_STREAM).catch(() => {
        throw e;
      });
    });
  }
}

const enc = (v: unknown): Uint8Array => Buffer.from(JSON.stringify(v), "utf8");

export class JournalWriter<Spec> {
  private readonly js: JetStreamClient;
  private readonly outstanding = new Set<Promise<unknown>>();
  private readonly tombstones: Array<{ subject: string; at: number }> = [];
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly partition: number,
    private readonly term: number,
    private readonly clock: Clock,
    private readonly log: Logger,
    inheritedTombstones: Iterable<string> = [],
  ) {
    this.js = jetstream(nc);
    const now = clock.now();
    for (const subject of inheritedTombstones) this.tombstones.push({ subject, at: now });
    this.sweeper = setInterval(() => void this.sweep(), TOMBSTONE_KEEP_MS / 2);
    this.sweeper.unref();
  }

  environment(id: string, entry: EnvironmentEntry | undefined): void {
    const subject = environmentSubject(this.partition, id);
    this.publish(subject, { term: this.term, entry: entry ?? null });
    if (!entry) this.tombstones.push({ subject, at: this.clock.now() });
  }

  target(configKey: string, target: JournaledTarget<Spec> | undefined): void {
    const subject = targetSubject(this.partition, configKey);
    this.publish(subject, { term: this.term, target: target ?? null });
    if (!target) this.tombstones.push({ subject, at: this.clock.now() });
  }

  private publish(subject: string, record: unknown): void {
    const p = this.js.publish(subject, enc(record)).catch((e: unknown) => {
      this.log.warn("assignment journal publish failed", { partition: this.partition, subject, error: String(e) });
    });
    this.outstanding.add(p);
    void p.finally(() => this.outstanding.delete(p));
  }

  /** Resolves once every publish so far is stored (or failed). */
  async flush(): Promise<void> {
    await Promise.all([...this.outstanding]);
  }

  /** Purges tombstones older than TOMBSTONE_KEEP_MS. */
  async sweep(): Promise<void> {
    const due = this.clock.now() - TOMBSTONE_KEEP_MS;
    const ready: string[] = [];
    while (this.tombstones.length > 0 && this.tombstones[0]!.at <= due) ready.push(this.tombstones.shift()!.subject);
    if (ready.length === 0) return;
    let jsm: JetStreamManager;
    try {
      jsm = await jetstreamManager(this.nc);
    } catch {
      return;
    }
    for (const subject of ready) {
      // Only the tombstone is left on the subject (one message per subject); if the subject was
      // written again since, its newer message is purged too: environment ids are never reused,
      // and a target is re-journaled by setProvisioned.
      await jsm.streams.purge(ASSIGN_STREAM, { filter: subject }).catch(() => undefined);
    }
  }

  close(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}

/** A follower's continuously replayed copy of one partition's journal (an ordered consumer). */
export class JournalReplica<Spec> {
  readonly state: PartitionState<Spec> = emptyPartitionState<Spec>();
  private lastSeq = 0;
  private messages: ConsumerMessages | undefined;
  private stopped = false;
  /** False once the consumer ended (connection closed, stream gone): start a new replica. */
  alive = true;
  private readonly waiters: Array<{ seq: number; resolve: () => void }> = [];
  private readonly done: Promise<void>;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly partition: number,
    private readonly log: Logger,
    ready: Promise<ConsumerMessages>,
  ) {
    this.done = ready
      .then((m) => this.run(m))
      .catch((e: unknown) => {
        if (!this.stopped) this.log.warn("assignment journal replica stopped", { partition, error: String(e) });
      })
      .finally(() => {
        this.alive = false;
      });
  }

  static start<Spec>(nc: NatsConnection, partition: number, log: Logger): JournalReplica<Spec> {
    const js = jetstream(nc);
    const ready = js.consumers.get(ASSIGN_STREAM, { filter_subjects: partitionFilter(partition) }).then((c) => c.consume());
    return new JournalReplica<Spec>(nc, partition, log, ready);
  }

  private async run(messages: ConsumerMessages): Promise<void> {
    this.messages = messages;
    if (this.stopped) {
      await messages.close();
      return;
    }
    for await (const m of messages) {
      try {
        applyJournal(this.state, this.partition, m.subject, m.json());
      } catch (e) {
        this.log.warn("unreadable assignment journal record", { subject: m.subject, error: String(e) });
      }
      this.lastSeq = m.seq;
      for (let i = this.waiters.length - 1; i >= 0; i--) {
        if (this.waiters[i]!.seq <= this.lastSeq) this.waiters.splice(i, 1)[0]!.resolve();
      }
    }
  }

  /**
   * Resolves once the replica has applied the partition's last stored message, or after
   * `timeoutMs` (false then: the state may miss the newest changes).
   */
  async caughtUp(timeoutMs: number): Promise<boolean> {
    const jsm = await jetstreamManager(this.nc);
    const last = await jsm.streams.getMessage(ASSIGN_STREAM, { last_by_subj: partitionFilter(this.partition) }).catch(() => null);
    if (!last || last.seq <= this.lastSeq) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(false);
      }, timeoutMs);
      const w = {
        seq: last.seq,
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      this.waiters.push(w);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.messages?.close().catch(() => undefined);
    await Promise.race([this.done, new Promise((r) => setTimeout(r, 1000).unref())]);
  }
}
