/**
 * LogStore on SQLite. Appends are buffered and written in one transaction per flush interval, so a
 * busy function costs one fsync per interval, not one per line. Retention: the newest
 * `maxEventsPerGroup` events of each log group are kept.
 */
import type { SqliteDatabase } from "./database.js";
import type { LogEvent, LogStore, StoredLogEvent } from "../contract.js";

interface Pending {
  accountId: string;
  group: string;
  stream: string;
  event: LogEvent;
  ingested: number;
}

export const DEFAULT_LOG_FLUSH_MS = 50;
export const DEFAULT_MAX_EVENTS_PER_GROUP = 100_000;

export class SqliteLogStore implements LogStore {
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private appendsSinceTrim = 0;
  private readonly insert;
  private readonly trim;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly opts: { flushMs?: number; maxEventsPerGroup?: number } = {},
  ) {
    this.insert = db.prepare("INSERT INTO log_events (account_id, log_group, log_stream, timestamp, ingested, message) VALUES (?, ?, ?, ?, ?, ?)");
    this.trim = db.prepare(
      `DELETE FROM log_events WHERE account_id = ? AND log_group = ? AND id <= (
         SELECT id FROM log_events WHERE account_id = ? AND log_group = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
    );
  }

  append(accountId: string, group: string, stream: string, events: LogEvent[]): void {
    const ingested = Date.now();
    for (const event of events) this.pending.push({ accountId, group, stream, event, ingested });
    this.timer ??= setTimeout(() => void this.flush(), this.opts.flushMs ?? DEFAULT_LOG_FLUSH_MS);
  }

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const groups = new Set<string>();
    this.db.transaction(() => {
      for (const p of batch) {
        this.insert.run(p.accountId, p.group, p.stream, p.event.timestamp, p.ingested, p.event.message);
        groups.add(p.accountId + "\0" + p.group);
      }
      this.appendsSinceTrim += batch.length;
      if (this.appendsSinceTrim > 1000) {
        this.appendsSinceTrim = 0;
        const max = this.opts.maxEventsPerGroup ?? DEFAULT_MAX_EVENTS_PER_GROUP;
        for (const g of groups) {
          const [a, lg] = g.split("\0") as [string, string];
          this.trim.run(a, lg, a, lg, max);
        }
      }
    })();
  }

  async filter(
    accountId: string,
    group: string,
    opts: { startTime?: number; endTime?: number; streamNames?: string[]; limit?: number; nextToken?: string },
  ): Promise<{ events: StoredLogEvent[]; nextToken?: string }> {
    await this.flush();
    const limit = Math.min(Math.max(opts.limit ?? 10_000, 1), 10_000);
    const afterId = opts.nextToken ? Number(Buffer.from(opts.nextToken, "base64url").toString()) || 0 : 0;
    const params: Array<string | number> = [accountId, group, opts.startTime ?? 0, opts.endTime ?? Number.MAX_SAFE_INTEGER, afterId];
    let sql =
      "SELECT id, log_stream, timestamp, ingested, message FROM log_events WHERE account_id = ? AND log_group = ? AND timestamp >= ? AND timestamp <= ? AND id > ?";
    if (opts.streamNames?.length) {
      sql += ` AND log_stream IN (${opts.streamNames.map(() => "?").join(",")})`;
      params.push(...opts.streamNames);
    }
    sql += " ORDER BY id LIMIT ?";
    params.push(limit + 1);
    const rows = this.db.prepare(sql).all(...params) as Array<{ id: number; log_stream: string; timestamp: number; ingested: number; message: string }>;
    const events = rows.slice(0, limit).map((r) => ({
      logStreamName: r.log_stream,
      timestamp: r.timestamp,
      ingestionTime: r.ingested,
      message: r.message,
      eventId: String(r.id).padStart(20, "0"),
    }));
    const result: { events: StoredLogEvent[]; nextToken?: string } = { events };
    if (rows.length > limit) result.nextToken = Buffer.from(String(rows[limit - 1]!.id)).toString("base64url");
    return result;
  }

  async streams(accountId: string, group: string): Promise<Array<{ logStreamName: string; firstEventTimestamp: number; lastEventTimestamp: number }>> {
    await this.flush();
    const rows = this.db
      .prepare(
        "SELECT log_stream, MIN(timestamp) AS first, MAX(timestamp) AS last FROM log_events WHERE account_id = ? AND log_group = ? GROUP BY log_stream ORDER BY last DESC",
      )
      .all(accountId, group) as Array<{ log_stream: string; first: number; last: number }>;
    return rows.map((r) => ({ logStreamName: r.log_stream, firstEventTimestamp: r.first, lastEventTimestamp: r.last }));
  }

  async deleteGroup(accountId: string, group: string): Promise<void> {
    await this.flush();
    this.db.prepare("DELETE FROM log_events WHERE account_id = ? AND log_group = ?").run(accountId, group);
  }
}
