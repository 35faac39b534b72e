/**
 * Support for the async end-to-end tests: a clock the test can move forward (to age events
 * without waiting), the functions' log lines (what they did), Kiln's async stats, and polling.
 */
import type { Clock } from "../../src/base/index.js";
import type { TestKiln } from "../support/kiln.js";
import { signedFetch } from "../support/signed-fetch.js";

/** Wall time plus an offset that only grows. */
export class SkewClock implements Clock {
  private offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  monotonic(): number {
    return performance.now() + this.offset;
  }
  advance(ms: number): void {
    this.offset += ms;
  }
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface LogLine {
  timestamp: number;
  requestId: string;
  text: string;
}

/** What the function printed with console.log, oldest first (`<time>\t<request id>\tINFO\t<text>`). */
export async function logLines(k: TestKiln, fn: string): Promise<LogLine[]> {
  const out: LogLine[] = [];
  let nextToken: string | undefined;
  do {
    const r = await signedFetch(k.url, {
      method: "POST",
      path: "/",
      service: "logs",
      body: JSON.stringify({ logGroupName: `/aws/lambda/${fn}`, ...(nextToken ? { nextToken } : {}) }),
      headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "Logs_20140328.FilterLogEvents" },
    });
    if (r.status === 404 || r.errorType === "ResourceNotFoundException") return out;
    if (r.status !== 200) throw new Error(`FilterLogEvents ${r.status}: ${r.text}`);
    const page = r.json() as { events: Array<{ timestamp: number; message: string }>; nextToken?: string };
    for (const e of page.events) {
      const m = /^\S+\t(\S+)\tINFO\t(.*)$/s.exec(e.message.trimEnd());
      if (m) out.push({ timestamp: e.timestamp, requestId: m[1]!, text: m[2]! });
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}

/** Lines starting with `tag `, their rest parsed as JSON when it is. */
export async function tagged(k: TestKiln, fn: string, tag: string): Promise<Array<LogLine & { body: any }>> {
  return (await logLines(k, fn))
    .filter((l) => l.text.startsWith(tag + " "))
    .map((l) => {
      const rest = l.text.slice(tag.length + 1);
      let body: unknown = rest;
      try {
        body = JSON.parse(rest);
      } catch {
        // plain text
      }
      return { ...l, body };
    });
}

export interface AsyncStats {
  FunctionName: string;
  Queue: { Depth: number; Ready: number; InFlight: number; OldestEventAgeMs: number; NextRetryInMs?: number };
  Metrics: Record<string, any>;
  Dropped: Record<string, number>;
  RecentDrops: Array<{ RequestId: string; Reason: string; Attempts: number }>;
  Pollers: { Running: number; ConcurrencyCap?: number; PausedForMs?: number };
}

export async function asyncStats(k: TestKiln, fn: string): Promise<AsyncStats> {
  const r = await signedFetch(k.url, { method: "GET", path: `/kiln/2026-01-01/functions/${encodeURIComponent(fn)}/async-stats` });
  if (r.status !== 200) throw new Error(`async-stats ${r.status}: ${r.text}`);
  return r.json() as AsyncStats;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
