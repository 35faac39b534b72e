/**
 * The cursor behind `kiln logs --follow`. Each poll asks for events from the newest timestamp
 * already seen (inclusive, because several events can share one millisecond and a later poll may
 * find more of them), and the cursor drops the ones it has already printed, by eventId.
 *
 * Worked example: a poll returns e1@100, e2@105 -> both printed, next poll starts at 105 and
 * remembers {e2}. It returns e2@105, e3@105, e4@110 -> e2 is skipped, e3 and e4 printed; the
 * cursor moves to 110 and remembers {e4}.
 *
 * Known caveat: an event ingested late with a timestamp older than the cursor is never shown,
 * which is also how `aws logs tail --follow` behaves.
 */

export interface LogEvent {
  eventId: string;
  timestamp: number;
  message: string;
  logStreamName?: string;
  ingestionTime?: number;
}

export class LogCursor {
  private since: number;
  /** Ids of the events printed at exactly `since` (older ones can no longer come back). */
  private seenAtSince = new Set<string>();

  constructor(startTime: number) {
    this.since = startTime;
  }

  /** The startTime for the next FilterLogEvents call. */
  get startTime(): number {
    return this.since;
  }

  /** Returns the events not yet printed, in time order, and advances the cursor past them. */
  accept(events: readonly LogEvent[]): LogEvent[] {
    const fresh = events
      .filter((e) => e.timestamp >= this.since && !this.seenAtSince.has(e.eventId))
      .sort((a, b) => a.timestamp - b.timestamp);
    // Dedupe within one batch too (a page boundary can repeat an event).
    const unique: LogEvent[] = [];
    const ids = new Set<string>();
    for (const e of fresh) {
      if (ids.has(e.eventId)) continue;
      ids.add(e.eventId);
      unique.push(e);
    }
    for (const e of unique) {
      if (e.timestamp > this.since) {
        this.since = e.timestamp;
        this.seenAtSince = new Set();
      }
      this.seenAtSince.add(e.eventId);
    }
    return unique;
  }
}
