/**
 * A CloudWatch Logs-compatible subset (JSON 1.1, `X-Amz-Target: Logs_20140328.<Op>`), so that
 * `kiln logs`, `aws logs filter-log-events` and the SDK's CloudWatchLogsClient read function logs.
 */
import { KilnError, validation } from "../../base/index.js";
import type { LogStore } from "../../store/index.js";
import type { AccountRecord } from "../../control/index.js";

export const LOGS_TARGET_PREFIX = "Logs_20140328.";

type Body = Record<string, unknown>;

const num = (b: Body, k: string): number | undefined => (typeof b[k] === "number" ? (b[k] as number) : undefined);
const str = (b: Body, k: string): string | undefined => (typeof b[k] === "string" ? (b[k] as string) : undefined);

function group(b: Body): string {
  const g = str(b, "logGroupName");
  if (!g) throw validation("1 validation error detected: Value null at 'logGroupName' failed to satisfy constraint: Member must not be null");
  return g;
}

export async function logsOperation(logs: LogStore, account: AccountRecord, op: string, body: Body): Promise<unknown> {
  switch (op) {
    case "FilterLogEvents": {
      const streams = Array.isArray(body.logStreamNames) ? (body.logStreamNames as unknown[]).filter((s): s is string => typeof s === "string") : undefined;
      const start = num(body, "startTime");
      const end = num(body, "endTime");
      const limit = num(body, "limit");
      const token = str(body, "nextToken");
      const r = await logs.filter(account.accountId, group(body), {
        ...(start !== undefined ? { startTime: start } : {}),
        ...(end !== undefined ? { endTime: end } : {}),
        ...(limit !== undefined ? { limit } : {}),
        ...(token !== undefined ? { nextToken: token } : {}),
        ...(streams ? { streamNames: streams } : {}),
      });
      return { events: r.events, searchedLogStreams: [], ...(r.nextToken ? { nextToken: r.nextToken } : {}) };
    }
    case "GetLogEvents": {
      const stream = str(body, "logStreamName");
      if (!stream) throw validation("1 validation error detected: Value null at 'logStreamName' failed to satisfy constraint: Member must not be null");
      const start = num(body, "startTime");
      const token = str(body, "nextToken");
      const r = await logs.filter(account.accountId, group(body), {
        streamNames: [stream],
        ...(start !== undefined ? { startTime: start } : {}),
        ...(token !== undefined ? { nextToken: token.replace(/^f\//, "") } : {}),
      });
      const events = r.events.map((e) => ({ timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime }));
      return { events, nextForwardToken: `f/${r.nextToken ?? token?.replace(/^f\//, "") ?? ""}`, nextBackwardToken: "b/" };
    }
    case "DescribeLogStreams": {
      const streams = await logs.streams(account.accountId, group(body));
      return {
        logStreams: streams.map((s) => ({
          logStreamName: s.logStreamName,
          creationTime: s.firstEventTimestamp,
          firstEventTimestamp: s.firstEventTimestamp,
          lastEventTimestamp: s.lastEventTimestamp,
          lastIngestionTime: s.lastEventTimestamp,
          storedBytes: 0,
        })),
      };
    }
    default:
      throw new KilnError("UnknownOperationException", `Kiln's logs endpoint does not implement ${op} (FilterLogEvents, GetLogEvents and DescribeLogStreams are available).`);
  }
}
