/**
 * LogStore on the JetStream stream `KILN_LOGS`: one message per log event on the subject
 * `kiln.logs.<account>.<group>.<stream>` (each name one token, encoded as in keys.ts), its body
 * `{"t": timestamp, "i": ingestionTime, "m": message}`. The stream sequence is the event id and
 * orders events the way SQLite's row id does.
 *
 * `append` only buffers (the contract is fire-and-forget); the buffer is published every `flushMs`
 * (50 ms) or by `flush()`, which awaits the acknowledgements. `filter` runs an ordered consumer
 * with a subject filter on the group (or on the one stream asked for), from the sequence after
 * `nextToken`, or else from `startTime` minus a slack of one hour (events carry the timestamps
 * their functions wrote, normally just before ingestion), keeping events in
 * [startTime, endTime] until `limit` (+1, to know whether there is a next page) are found. An
 * ephemeral consumer may be placed on a peer that is down (nats-server 2.9); when creating it
 * times out (`scanJs` has a short timeout) the scan falls back to reading message by message
 * from the stream leader (`next_by_subj`), slower but needing only the leader.
 * `streams` scans the group (one pass; DescribeLogStreams is rare). `deleteGroup` purges the
 * group's subjects.
 *
 * Retention: the newest `maxEventsPerStream` events of each log stream (the stream's
 * max_msgs_per_subject), and `maxBytes` overall when given. Caveats: events appended during a
 * NATS outage are dropped at the next flush (counted in `dropped`); a filter scans every event of
 * the group from its start point, so unbounded queries on very large groups are slow.
 */
import type { JetStreamClient, JetStreamManager, MsgRequest } from "@nats-io/jetstream";
import { isNotFound } from "./kv-errors.js";
import type { LogEvent, LogStore, StoredLogEvent } from "../contract.js";
import { decodeToken, encodeToken } from "./keys.js";
import type { Clock } from "../../base/index.js";

export const LOG_STREAM = "KILN_LOGS";
export const LOG_SUBJECT_ROOT = "kiln.logs";
export const DEFAULT_LOG_FLUSH_MS = 50;
export const DEFAULT_MAX_EVENTS_PER_STREAM = 100_000;
/** How long before `startTime` a filter starts reading (by ingestion time). */
export const START_TIME_SLACK_MS = 60 * 60 * 1000;
const MAX_LIMIT = 10_000;
const PUBLISH_WINDOW = 256;

interface Pending {
  subject: string;
  body: string;
}

/** What a scan needs of a message (a JsMsg or a StoredMsg). */
interface LogMsg {
  subject: string;
  seq: number;
  json<T>(): T;
}

interface Body {
  t: number;
  i: number;
  m: string;
}

export function groupSubject(accountId: string, group: string, root = LOG_SUBJECT_ROOT): string {
  return `${root}.${encodeToken(accountId)}.${encodeToken(group)}`;
}

export class NatsLogStore implements LogStore {
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Events lost because publishing failed. */
  dropped = 0;

  constructor(
    private readonly js: JetStreamClient,
    /** A client with a short request timeout, for creating scan consumers. */
    private readonly scanJs: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly clock: Clock,
    private readonly opts: { flushMs?: number; stream?: string; subjectRoot?: string | undefined } = {},
  ) {}

  private get stream(): string {
    return this.opts.stream ?? LOG_STREAM;
  }

  append(accountId: string, group: string, stream: string, events: LogEvent[]): void {
    const subject = `${groupSubject(accountId, group, this.opts.subjectRoot)}.${encodeToken(stream)}`;
    const ingested = this.clock.now();
    for (const e of events) this.pending.push({ subject, body: JSON.stringify({ t: e.timestamp, i: ingested, m: e.message } satisfies Body) });
    this.timer ??= setTimeout(() => void this.flush().catch(() => undefined), this.opts.flushMs ?? DEFAULT_LOG_FLUSH_MS);
  }

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    let failure: unknown;
    for (let i = 0; i < batch.length; i += PUBLISH_WINDOW) {
      const window = batch.slice(i, i + PUBLISH_WINDOW);
      const results = await Promise.allSettled(window.map((p) => this.js.publish(p.subject, p.body)));
      for (const r of results) {
        if (r.status === "rejected") {
          this.dropped++;
          failure ??= r.reason;
        }
      }
    }
    if (failure !== undefined) throw failure;
  }

  async filter(
    accountId: string,
    group: string,
    opts: { startTime?: number; endTime?: number; streamNames?: string[]; limit?: number; nextToken?: string },
  ): Promise<{ events: StoredLogEvent[]; nextToken?: string }> {
    await this.flush();
    const limit = Math.min(Math.max(opts.limit ?? MAX_LIMIT, 1), MAX_LIMIT);
    const startTime = opts.startTime ?? 0;
    const endTime = opts.endTime ?? Number.MAX_SAFE_INTEGER;
    const names = opts.streamNames?.length ? new Set(opts.streamNames.map(encodeToken)) : undefined;
    const base = groupSubject(accountId, group, this.opts.subjectRoot);
    const filter = names?.size === 1 ? `${base}.${[...names][0]}` : `${base}.*`;
    const afterSeq = opts.nextToken ? Number(Buffer.from(opts.nextToken, "base64url").toString()) || 0 : 0;
    const start: { opt_start_seq?: number; opt_start_time?: string } = {};
    if (afterSeq > 0) start.opt_start_seq = afterSeq + 1;
    else if (opts.startTime !== undefined) start.opt_start_time = new Date(Math.max(0, opts.startTime - START_TIME_SLACK_MS)).toISOString();
    const events: Array<StoredLogEvent & { seq: number }> = [];
    await this.scan(filter, start, (m) => {
      const token = m.subject.slice(base.length + 1);
      if (names && !names.has(token)) return true;
      const b = m.json<Body>();
      if (b.t < startTime || b.t > endTime) return true;
      events.push({ logStreamName: streamNameOf(m.subject, base), timestamp: b.t, ingestionTime: b.i, message: b.m, eventId: String(m.seq).padStart(20, "0"), seq: m.seq });
      return events.length <= limit;
    });
    const page = events.slice(0, limit).map(({ seq: _seq, ...e }) => e);
    const result: { events: StoredLogEvent[]; nextToken?: string } = { events: page };
    if (events.length > limit) result.nextToken = Buffer.from(String(events[limit - 1]!.seq)).toString("base64url");
    return result;
  }

  async streams(accountId: string, group: string): Promise<Array<{ logStreamName: string; firstEventTimestamp: number; lastEventTimestamp: number }>> {
    await this.flush();
    const base = groupSubject(accountId, group, this.opts.subjectRoot);
    const seen = new Map<string, { logStreamName: string; firstEventTimestamp: number; lastEventTimestamp: number }>();
    await this.scan(`${base}.*`, {}, (m) => {
      const t = m.json<Body>().t;
      const name = streamNameOf(m.subject, base);
      const s = seen.get(name);
      if (!s) seen.set(name, { logStreamName: name, firstEventTimestamp: t, lastEventTimestamp: t });
      else {
        s.firstEventTimestamp = Math.min(s.firstEventTimestamp, t);
        s.lastEventTimestamp = Math.max(s.lastEventTimestamp, t);
      }
      return true;
    });
    return [...seen.values()].sort((a, b) => b.lastEventTimestamp - a.lastEventTimestamp);
  }

  async deleteGroup(accountId: string, group: string): Promise<void> {
    await this.flush();
    await this.jsm.streams.purge(this.stream, { filter: `${groupSubject(accountId, group, this.opts.subjectRoot)}.*` });
  }

  /** Feeds the messages on `filter` (from `start`) to `visit` until it returns false or none are left. */
  private async scan(filter: string, start: { opt_start_seq?: number; opt_start_time?: string }, visit: (m: LogMsg) => boolean): Promise<void> {
    let consumer;
    try {
      consumer = await this.scanJs.consumers.getPushConsumer(this.stream, { filter_subjects: filter, ...start });
    } catch (e) {
      if (!(e instanceof Error && e.name === "TimeoutError")) throw e;
      return this.scanByGets(filter, start.opt_start_seq ?? 1, visit);
    }
    try {
      const info = await consumer.info(true);
      if (info.num_pending === 0) return;
      const messages = await consumer.consume();
      for await (const m of messages) {
        const more = visit({ subject: m.subject, seq: m.seq, json: <T>() => m.json<T>() });
        if (!more || m.info.pending === 0) break;
      }
      await messages.close();
    } finally {
      await consumer.delete().catch(() => undefined);
    }
  }

  private async scanByGets(filter: string, fromSeq: number, visit: (m: LogMsg) => boolean): Promise<void> {
    for (let seq = fromSeq; ; ) {
      // nats-server 2.9 answers `next_by_subj` on STREAM.MSG.GET; the client types it for direct gets only.
      const request = { next_by_subj: filter, seq } as unknown as MsgRequest;
      const m = await this.jsm.streams.getMessage(this.stream, request).catch((e: unknown) => {
        if (isNotFound(e)) return null;
        throw e;
      });
      if (!m || !visit(m)) return;
      seq = m.seq + 1;
    }
  }
}

function streamNameOf(subject: string, base: string): string {
  return decodeToken(subject.slice(base.length + 1));
}
