/**
 * `kiln async-stats <function>`: a function's asynchronous invocations from Kiln's admin API
 * (`GET /kiln/2026-01-01/functions/{fn}/async-stats`, SigV4 service `lambda`): the queue (depth,
 * in flight, age of the oldest event), Lambda's async metrics (AsyncEventsReceived,
 * AsyncEventAge, AsyncEventsDropped), retries, throttles, redeliveries and the latest drops.
 */
import type { CliContext, CommandModule } from "../context.js";
import { formatTable } from "../format.js";
import { signedFetch } from "../signed-fetch.js";
import { resolveTarget } from "../target.js";
import { parseCommandArgs, rejectExtraPositionals, requirePositional } from "../usage.js";

export const asyncStatsPath = (fn: string): string => `/kiln/2026-01-01/functions/${encodeURIComponent(fn)}/async-stats`;

export const usage = `Usage: kiln async-stats <function> [--json]

Shows the function's asynchronous invocations (Invoke with InvocationType Event): events queued,
running and retrying, the age of the oldest, and the counters Lambda reports as
AsyncEventsReceived, AsyncEventAge and AsyncEventsDropped, with retries, throttles and
redeliveries (the only events that can run twice: those in flight when Kiln stopped).

Options:
  --json   print the admin API's JSON answer as it is`;

interface Stats {
  FunctionName: string;
  Queue: { Depth: number; Ready: number; InFlight: number; OldestEventAgeMs: number; NextRetryInMs?: number };
  Metrics: Record<string, number | { Count: number; P50Ms?: number; P99Ms?: number; MaxMs?: number }>;
  Dropped: Record<string, number>;
  RecentDrops: Array<{ RequestId: string; Reason: string; DroppedAt: string; Attempts: number }>;
  Pollers: { Running: number; ConcurrencyCap?: number; PausedForMs?: number };
}

const ms = (v: number | undefined): string => (v === undefined ? "-" : v < 10_000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(1)} s`);

export async function run(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals, help } = parseCommandArgs("async-stats", argv, { json: { type: "boolean" } });
  if (help) {
    ctx.out(usage);
    return 0;
  }
  const fn = requirePositional("async-stats", positionals, 0, "<function>");
  rejectExtraPositionals("async-stats", positionals, 1);
  const res = await signedFetch(resolveTarget(ctx.env, ctx.cwd), { method: "GET", path: asyncStatsPath(fn), service: "lambda" });
  if (values.json) {
    ctx.out(JSON.stringify(JSON.parse(res.text), null, 2));
    return 0;
  }
  const s = JSON.parse(res.text) as Stats;
  const age = s.Metrics.AsyncEventAge as { Count: number; P50Ms?: number; P99Ms?: number; MaxMs?: number };
  const n = (k: string): string => String(s.Metrics[k] ?? 0);
  const rows: string[][] = [
    ["Queue depth", String(s.Queue.Depth)],
    ["  ready", String(s.Queue.Ready)],
    ["  in flight", String(s.Queue.InFlight)],
    ["  oldest event age", s.Queue.Depth > 0 ? ms(s.Queue.OldestEventAgeMs) : "-"],
    ["  next retry in", ms(s.Queue.NextRetryInMs)],
    ["AsyncEventsReceived", n("AsyncEventsReceived")],
    ["AsyncEventAge p50 / p99 / max", age.Count > 0 ? `${ms(age.P50Ms)} / ${ms(age.P99Ms)} / ${ms(age.MaxMs)} (last ${age.Count} attempts)` : "-"],
    ["AsyncEventsDropped", n("AsyncEventsDropped")],
    ...Object.entries(s.Dropped).map(([reason, count]) => [`  ${reason}`, String(count)]),
    ["Succeeded", n("Succeeded")],
    ["Function errors", n("FunctionErrors")],
    ["Retries", n("Retries")],
    ["Throttles", n("Throttles")],
    ["Platform errors", n("PlatformErrors")],
    ["Redelivered", n("Redelivered")],
    ["Destination deliveries", n("DestinationDeliveries")],
    ["Dead-letter deliveries", n("DeadLetterDeliveries")],
    ["Pollers running", String(s.Pollers.Running) + (s.Pollers.ConcurrencyCap !== undefined ? ` (capped at ${s.Pollers.ConcurrencyCap} after throttles)` : "")],
  ];
  if (s.Pollers.PausedForMs !== undefined) rows.push(["Paused after throttles for", ms(s.Pollers.PausedForMs)]);
  ctx.out(`${s.FunctionName}: asynchronous invocations\n\n${formatTable(["METRIC", "VALUE"], rows)}`);
  if (s.RecentDrops.length > 0) {
    ctx.out(`\nRecent drops:\n${formatTable(["REQUEST ID", "REASON", "ATTEMPTS", "DROPPED AT"], s.RecentDrops.map((d) => [d.RequestId, d.Reason, String(d.Attempts), d.DroppedAt]))}`);
  }
  return 0;
}

export default { usage, run } satisfies CommandModule;
