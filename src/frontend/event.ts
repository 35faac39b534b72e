/**
 * Invoke with InvocationType Event: the frontend checks the request as for a synchronous invoke
 * (function resolved and Active, payload JSON), with the asynchronous payload limit, then hands
 * the event to the queue and answers 202 once it is durably stored. The pollers run it later,
 * through the synchronous path, with the same request id.
 */
import { KilnError } from "../base/index.js";

/** Asynchronous request limit: 1 MB since October 2025 (was 256 KB). https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html */
export const MAX_ASYNC_PAYLOAD_BYTES = 1_048_576;

/** Where accepted events go (the poller fleet): resolves once the event is stored durably. */
export interface AsyncEventSink {
  accept(e: { requestId: string; accountId: string; functionName: string; qualifier?: string; payload: Buffer }): Promise<void>;
}

export function checkAsyncPayload(payload: Buffer): void {
  if (payload.length > MAX_ASYNC_PAYLOAD_BYTES) {
    throw new KilnError("RequestEntityTooLargeException", `${payload.length} byte payload is too large for the Event invocation type (limit ${MAX_ASYNC_PAYLOAD_BYTES} bytes)`);
  }
}
