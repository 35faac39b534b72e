/**
 * Kiln's admin view of a function's asynchronous invocations (`GET /kiln/2026-01-01/functions/{fn}/async-stats`):
 * the queue (depth, in flight, oldest event) and Lambda's async metrics under their names
 * (AsyncEventsReceived, AsyncEventAge, AsyncEventsDropped) plus retries, throttles and
 * redeliveries. What `kiln async-stats` prints.
 */
import { functionArn, parseFunctionRef, type FunctionRegistry } from "../../control/index.js";
import type { FunctionAsyncStats } from "../../pollers/index.js";
import type { Handler } from "../http.js";

export interface AsyncStatsDeps {
  registry: FunctionRegistry;
  region: string;
  stats(accountId: string, functionName: string): Promise<FunctionAsyncStats>;
}

export function asyncStatsRoute(d: AsyncStatsDeps): Handler {
  return async (ctx) => {
    const ref = parseFunctionRef(ctx.params.fn ?? "");
    const rec = await d.registry.get(ctx.account.accountId, ref);
    const s = await d.stats(rec.accountId, rec.name);
    const c = s.queue.counters;
    const json: Record<string, unknown> = {
      FunctionName: rec.name,
      FunctionArn: functionArn(d.region, rec.accountId, rec.name),
      Queue: {
        Depth: s.queue.depth,
        Ready: s.queue.ready,
        InFlight: s.queue.inFlight,
        OldestEventAgeMs: s.queue.oldestReceivedAt === undefined ? 0 : Math.max(0, s.now - s.queue.oldestReceivedAt),
        ...(s.queue.nextVisibleAt !== undefined ? { NextRetryInMs: Math.max(0, s.queue.nextVisibleAt - s.now) } : {}),
      },
      Metrics: {
        AsyncEventsReceived: c.received,
        AsyncEventsDropped: c.dropped,
        AsyncEventAge: s.age ? { Count: s.age.count, P50Ms: s.age.p50Ms, P99Ms: s.age.p99Ms, MaxMs: s.age.maxMs, LastMs: s.age.lastMs } : { Count: 0 },
        Succeeded: c.succeeded,
        FunctionErrors: c.functionErrors,
        Retries: c.retries,
        Throttles: c.throttles,
        PlatformErrors: c.platformErrors,
        Redelivered: c.redelivered,
        DestinationDeliveries: c.destinationDeliveries,
        DeadLetterDeliveries: c.deadLetterDeliveries,
      },
      Dropped: {
        RetriesExhausted: c.droppedRetriesExhausted,
        EventAgeExceeded: c.droppedEventAgeExceeded,
        FunctionNotFound: c.droppedFunctionNotFound,
        Rejected: c.droppedRejected,
      },
      RecentDrops: s.queue.recentDrops.map((r) => ({ RequestId: r.id, Reason: r.reason, DroppedAt: new Date(r.droppedAt).toISOString(), Attempts: r.attempts })),
      Pollers: { Running: s.running, ...(s.cap !== undefined ? { ConcurrencyCap: s.cap } : {}), ...(s.pausedUntil !== undefined ? { PausedForMs: s.pausedUntil - s.now } : {}) },
    };
    return { status: 200, json };
  };
}
