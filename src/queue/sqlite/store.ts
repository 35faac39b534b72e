/**
 * The queue's SQL, synchronous, on one better-sqlite3 connection: what the writer thread runs.
 *
 * A lease is a visibility timeout, as on SQS: leasing moves `visible_at` to the lease's end and
 * bumps `receipt`; settling requires the receipt and `leased = 1`. An expired lease makes the
 * event visible again with `leased` still 1, which is how a redelivery is recognized and counted.
 */
import type Database from "better-sqlite3";
import {
  COUNTERS,
  laneOf,
  zeroCounters,
  type CounterName,
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

const SCHEMA = `
CREATE TABLE IF NOT EXISTS async_events (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  id          TEXT NOT NULL UNIQUE,
  lane        TEXT NOT NULL,
  target      TEXT NOT NULL,
  source      TEXT NOT NULL,
  payload     BLOB NOT NULL,
  received_at INTEGER NOT NULL,
  visible_at  INTEGER NOT NULL,
  leased      INTEGER NOT NULL DEFAULT 0,
  receipt     INTEGER NOT NULL DEFAULT 0,
  attempts    INTEGER NOT NULL DEFAULT 0,
  backoffs    INTEGER NOT NULL DEFAULT 0,
  last_error  TEXT
);
CREATE INDEX IF NOT EXISTS async_events_ready ON async_events (lane, visible_at, seq);
CREATE TABLE IF NOT EXISTS async_counters (
  lane  TEXT NOT NULL,
  name  TEXT NOT NULL,
  value INTEGER NOT NULL,
  PRIMARY KEY (lane, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS async_dropped (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  lane       TEXT NOT NULL,
  event_id   TEXT NOT NULL,
  reason     TEXT NOT NULL,
  dropped_at INTEGER NOT NULL,
  attempts   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS async_dropped_lane ON async_dropped (lane, id);
`;

/** How many drops each lane remembers. */
export const RECENT_DROPS_KEPT = 100;
const RECENT_DROPS_SHOWN = 10;

interface EventRow {
  seq: number;
  id: string;
  lane: string;
  target: string;
  source: string;
  payload: Buffer;
  received_at: number;
  leased: number;
  receipt: number;
  attempts: number;
  backoffs: number;
  last_error: string | null;
}

interface SummaryRow {
  lane: string;
  depth: number;
  ready: number | null;
  in_flight: number | null;
  next_visible: number | null;
  oldest: number | null;
}

/** One operation, as the writer thread receives it. */
export type QueueOp =
  | { op: "enqueue"; events: NewEvent[] }
  | { op: "lease"; lane: string; n: number; now: number; leaseMs: number }
  | { op: "ack"; lease: LeaseRef; s?: Settlement }
  | { op: "retryAt"; lease: LeaseRef; at: number; change: RetryChange; s?: Settlement }
  | { op: "dead"; lease: LeaseRef; reason: string; now: number; s?: Settlement }
  | { op: "lanes"; now: number }
  | { op: "stats"; lane: string; now: number };

/** Payloads cross the thread boundary as Uint8Array; SQLite wants Buffers. */
const asBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

export class QueueStore {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    db.exec(SCHEMA);
    this.s = {
      insert: db.prepare("INSERT INTO async_events (id, lane, target, source, payload, received_at, visible_at) VALUES (?, ?, ?, ?, ?, ?, ?)"),
      ready: db.prepare<[string, number, number], EventRow>(
        "SELECT seq, id, lane, target, source, payload, received_at, leased, receipt, attempts, backoffs, last_error FROM async_events WHERE lane = ? AND visible_at <= ? ORDER BY visible_at, seq LIMIT ?",
      ),
      take: db.prepare("UPDATE async_events SET visible_at = ?, leased = 1, receipt = receipt + 1 WHERE seq = ?"),
      remove: db.prepare("DELETE FROM async_events WHERE id = ? AND receipt = ? AND leased = 1"),
      attemptsOf: db.prepare<[string, number], { attempts: number }>("SELECT attempts FROM async_events WHERE id = ? AND receipt = ? AND leased = 1"),
      retry: db.prepare("UPDATE async_events SET visible_at = ?, leased = 0, attempts = ?, backoffs = ?, last_error = ? WHERE id = ? AND receipt = ? AND leased = 1"),
      count: db.prepare(
        "INSERT INTO async_counters (lane, name, value) VALUES (?, ?, ?) ON CONFLICT (lane, name) DO UPDATE SET value = value + excluded.value",
      ),
      drop: db.prepare("INSERT INTO async_dropped (lane, event_id, reason, dropped_at, attempts) VALUES (?, ?, ?, ?, ?)"),
      trimDrops: db.prepare(
        `DELETE FROM async_dropped WHERE lane = ? AND id <= (SELECT id FROM async_dropped WHERE lane = ? ORDER BY id DESC LIMIT 1 OFFSET ${RECENT_DROPS_KEPT})`,
      ),
      lanes: db.prepare<[number, number, number], SummaryRow>(
        `SELECT lane, COUNT(*) AS depth, SUM(visible_at <= ?) AS ready, SUM(leased = 1 AND visible_at > ?) AS in_flight,
                MIN(CASE WHEN visible_at > ? THEN visible_at END) AS next_visible, MIN(received_at) AS oldest
         FROM async_events GROUP BY lane`,
      ),
      lane: db.prepare<[number, number, number, string], Omit<SummaryRow, "lane">>(
        `SELECT COUNT(*) AS depth, SUM(visible_at <= ?) AS ready, SUM(leased = 1 AND visible_at > ?) AS in_flight,
                MIN(CASE WHEN visible_at > ? THEN visible_at END) AS next_visible, MIN(received_at) AS oldest
         FROM async_events WHERE lane = ?`,
      ),
      counters: db.prepare<[string], { name: string; value: number }>("SELECT name, value FROM async_counters WHERE lane = ?"),
      drops: db.prepare<[string], { event_id: string; reason: string; dropped_at: number; attempts: number }>(
        `SELECT event_id, reason, dropped_at, attempts FROM async_dropped WHERE lane = ? ORDER BY id DESC LIMIT ${RECENT_DROPS_SHOWN}`,
      ),
    };
  }

  /** Makes every leased event visible at `at`; returns how many. */
  releaseLeases(at: number): number {
    return this.db.prepare("UPDATE async_events SET visible_at = ? WHERE leased = 1 AND visible_at > ?").run(at, at).changes;
  }

  run(o: QueueOp): unknown {
    switch (o.op) {
      case "enqueue":
        return this.insert(o.events);
      case "lease":
        return this.lease(o.lane, o.n, o.now, o.leaseMs);
      case "ack":
        return this.ack(o.lease, o.s);
      case "retryAt":
        return this.retryAt(o.lease, o.at, o.change, o.s);
      case "dead":
        return this.dead(o.lease, o.reason, o.now, o.s);
      case "lanes":
        return this.lanes(o.now);
      case "stats":
        return this.stats(o.lane, o.now);
    }
  }

  private insert(events: readonly NewEvent[]): void {
    const received = new Map<string, number>();
    for (const e of events) {
      const lane = laneOf(e.target);
      this.s.insert.run(e.id, lane, JSON.stringify(e.target), e.source, asBuffer(e.payload), e.receivedAt, e.receivedAt);
      received.set(lane, (received.get(lane) ?? 0) + 1);
    }
    for (const [lane, n] of received) this.s.count.run(lane, "received", n);
  }

  private settle(lane: string, s: Settlement | undefined): void {
    if (!s) return;
    if (s.followUps && s.followUps.length > 0) this.insert(s.followUps);
    for (const [name, n] of Object.entries(s.counters ?? {}) as Array<[CounterName, number]>) if (n !== 0) this.s.count.run(lane, name, n);
  }

  private lease(lane: string, n: number, now: number, leaseMs: number): LeasedEvent[] {
    const rows = this.s.ready.all(lane, now, n);
    let redelivered = 0;
    const out = rows.map((r) => {
      this.s.take.run(now + leaseMs, r.seq);
      if (r.leased === 1) redelivered++;
      return toLeased(r);
    });
    if (redelivered > 0) this.s.count.run(lane, "redelivered", redelivered);
    return out;
  }

  private ack(l: LeaseRef, s?: Settlement): boolean {
    if (this.s.remove.run(l.id, l.receipt).changes === 0) return false;
    this.settle(l.lane, s);
    return true;
  }

  private retryAt(l: LeaseRef, at: number, change: RetryChange, s?: Settlement): boolean {
    if (this.s.retry.run(at, change.attempts, change.backoffs, change.lastError ?? null, l.id, l.receipt).changes === 0) return false;
    this.settle(l.lane, s);
    return true;
  }

  private dead(l: LeaseRef, reason: string, now: number, s?: Settlement): boolean {
    const row = this.s.attemptsOf.get(l.id, l.receipt);
    if (!row || this.s.remove.run(l.id, l.receipt).changes === 0) return false;
    this.s.drop.run(l.lane, l.id, reason, now, s?.attempts ?? row.attempts);
    this.s.trimDrops.run(l.lane, l.lane);
    this.settle(l.lane, s);
    return true;
  }

  private lanes(now: number): LaneSummary[] {
    return this.s.lanes.all(now, now, now).map(toSummary);
  }

  private stats(lane: string, now: number): LaneStats {
    const summary = toSummary({ ...this.s.lane.get(now, now, now, lane)!, lane });
    const counters = zeroCounters();
    for (const r of this.s.counters.all(lane)) if ((COUNTERS as readonly string[]).includes(r.name)) counters[r.name as CounterName] = r.value;
    const recentDrops = this.s.drops.all(lane).map((d) => ({ id: d.event_id, reason: d.reason, droppedAt: d.dropped_at, attempts: d.attempts }));
    return { ...summary, counters, recentDrops };
  }
}

function toLeased(r: EventRow): LeasedEvent {
  const e: LeasedEvent = {
    id: r.id,
    lane: r.lane,
    target: JSON.parse(r.target) as EventTarget,
    payload: r.payload,
    receivedAt: r.received_at,
    source: r.source as EventSource,
    attempts: r.attempts,
    backoffs: r.backoffs,
    receipt: r.receipt + 1,
    redelivered: r.leased === 1,
  };
  if (r.last_error !== null) e.lastError = r.last_error;
  return e;
}

function toSummary(r: SummaryRow): LaneSummary {
  const s: LaneSummary = { lane: r.lane, depth: r.depth, ready: r.ready ?? 0, inFlight: r.in_flight ?? 0 };
  if (r.next_visible !== null) s.nextVisibleAt = r.next_visible;
  if (r.oldest !== null) s.oldestReceivedAt = r.oldest;
  return s;
}
