/**
 * `kiln logs <fn>`: the function's log group `/aws/lambda/<fn>` through Kiln's
 * CloudWatch-Logs-compatible endpoint (FilterLogEvents). With --follow, polls once a second from
 * the newest event seen until Ctrl-C (see log-cursor.ts for the dedupe).
 */
import type { CliContext, CommandModule } from "../context.js";
import { parseSince } from "../duration.js";
import { LogCursor, type LogEvent } from "../log-cursor.js";
import { signedFetch } from "../signed-fetch.js";
import { resolveTarget, type Target } from "../target.js";
import { parseCommandArgs, rejectExtraPositionals, requirePositional, UsageError } from "../usage.js";

const DEFAULT_SINCE = "10m";
const POLL_MS = 1000;

export const usage = `Usage: kiln logs <function> [--since 10m] [--follow]

Prints the function's log events (log group /aws/lambda/<function>): START, the function's own
output, END and REPORT lines, oldest first.

  --since T    from this long ago (30s, 10m, 2h, 1d; default ${DEFAULT_SINCE}) or from an ISO time
  --follow     keep printing new events as they arrive, until Ctrl-C`;

interface FilterLogEventsResponse {
  events?: LogEvent[];
  nextToken?: string;
}

export async function run(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals, help } = parseCommandArgs("logs", argv, {
    since: { type: "string" },
    follow: { type: "boolean", short: "f" },
  });
  if (help) {
    ctx.out(usage);
    return 0;
  }
  const fn = requirePositional("logs", positionals, 0, "<function>");
  rejectExtraPositionals("logs", positionals, 1);
  const since = values.since ?? DEFAULT_SINCE;
  const startTime = parseSince(since, Date.now());
  if (startTime === undefined) throw new UsageError(`--since expects a duration like 10m, 2h, 1d or an ISO time, got '${since}'`, "logs");

  const target = resolveTarget(ctx.env, ctx.cwd);
  const logGroupName = `/aws/lambda/${fn}`;
  const cursor = new LogCursor(startTime);
  for (;;) {
    const events = await fetchEvents(target, logGroupName, cursor.startTime, ctx.signal);
    for (const e of cursor.accept(events)) ctx.out(e.message.endsWith("\n") ? e.message.slice(0, -1) : e.message);
    if (!values.follow || ctx.signal.aborted) return 0;
    if (!(await sleep(POLL_MS, ctx.signal))) return 0;
  }
}

/** All pages of FilterLogEvents from startTime on. */
async function fetchEvents(target: Target, logGroupName: string, startTime: number, signal: AbortSignal): Promise<LogEvent[]> {
  const events: LogEvent[] = [];
  let nextToken: string | undefined;
  do {
    if (signal.aborted) break;
    const body = JSON.stringify({ logGroupName, startTime, ...(nextToken ? { nextToken } : {}) });
    const res = await signedFetch(target, {
      method: "POST",
      path: "/",
      service: "logs",
      headers: { "x-amz-target": "Logs_20140328.FilterLogEvents", "content-type": "application/x-amz-json-1.1" },
      body,
    });
    const page = JSON.parse(res.text) as FilterLogEventsResponse;
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** Resolves true after ms, or false as soon as the signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

export default { usage, run } satisfies CommandModule;
