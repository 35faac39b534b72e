/**
 * How pollers run an event: through the frontend's synchronous invoke path, exactly as a client's
 * RequestResponse invoke (same counting, assignment and placement), with the event's request id.
 * The answer, or the typed error, becomes one of the outcomes the retry decisions know.
 */
import { isKilnError } from "../base/index.js";
import type { FrontendInvokeService } from "../frontend/index.js";
import type { QueuedEvent } from "../queue/index.js";

export type InvocationResult =
  | { kind: "success" | "function-error"; payload: Buffer; executedVersion: string; functionError?: string }
  | { kind: "throttled" | "platform-error" | "gone" | "rejected"; error: string; reason?: string };

export type EventInvoker = (e: QueuedEvent) => Promise<InvocationResult>;

export function throughFrontend(frontend: Pick<FrontendInvokeService, "invoke">): EventInvoker {
  return async (e) => {
    try {
      const r = await frontend.invoke({
        accountId: e.target.accountId,
        functionName: e.target.functionName,
        ...(e.target.qualifier !== undefined ? { qualifier: e.target.qualifier } : {}),
        invocationType: "RequestResponse",
        payload: e.payload,
        requestId: e.id,
      });
      return r.functionError
        ? { kind: "function-error", payload: r.payload, executedVersion: r.executedVersion, functionError: r.functionError }
        : { kind: "success", payload: r.payload, executedVersion: r.executedVersion };
    } catch (err) {
      return classifyInvokeError(err);
    }
  };
}

/**
 * Throttles wait; a missing function drops the event; a function that cannot take the request
 * (too large, not JSON, bad qualifier) never will; everything else (a function still Pending or
 * being updated, a sandbox that could not start, an internal error) is a platform error, retried.
 */
export function classifyInvokeError(err: unknown): Exclude<InvocationResult, { payload: Buffer }> {
  if (!isKilnError(err)) return { kind: "platform-error", error: `Error: ${(err as Error)?.message ?? String(err)}` };
  const error = `${err.code}: ${err.message}${err.fields.Reason ? ` (${err.fields.Reason})` : ""}`;
  switch (err.code) {
    case "TooManyRequestsException":
      return { kind: "throttled", error, ...(err.fields.Reason ? { reason: err.fields.Reason } : {}) };
    case "ResourceNotFoundException":
      return { kind: "gone", error };
    case "RequestEntityTooLargeException":
    case "InvalidRequestContentException":
    case "InvalidParameterValueException":
    case "ValidationException":
      return { kind: "rejected", error };
    default:
      return { kind: "platform-error", error };
  }
}
