/**
 * The worker node protocol on the wire: routes, headers, limits, and the one table from errors to
 * statuses. Invocations carry the payload as the raw body (both ways) and everything else in
 * headers, so a 6 MB payload is never re-encoded.
 *
 *   POST   /v1/environments/:id          {configKey, spec}        -> 201
 *   POST   /v1/environments/:id/invoke   payload, x-kiln-* meta   -> 200 payload, x-kiln-* outcome
 *   DELETE /v1/environments/:id                                   -> 204 (also when unknown)
 *   GET    /v1/status                                             -> 200 {id, state, load, environments, lease}
 *   POST   /v1/drain                                              -> 202 {state}
 * Errors: JSON {code, message} with x-kiln-error-code; 410 EnvironmentGone, 503 WorkerDraining,
 * 401/403 node auth, 400 BadRequest, 404 NotFound, 413 PayloadTooLarge, 500 WorkerError.
 */
import type { InvocationInput, InvocationOutcome } from "../../worker/index.js";

/** Lambda's synchronous payload limit (6 MB request and response), plus room for the error envelope. */
export const MAX_NODE_BODY_BYTES = 6_291_456 + 64 * 1024;

export const H = {
  requestId: "x-kiln-request-id",
  invokedArn: "x-kiln-invoked-arn",
  /** base64 of the client context string. */
  clientContext: "x-kiln-client-context",
  timeoutMs: "x-kiln-timeout-ms",
  functionError: "x-kiln-function-error",
  healthy: "x-kiln-healthy",
  durationMs: "x-kiln-duration-ms",
  initDurationMs: "x-kiln-init-duration-ms",
  /** base64 of the log tail. */
  logTail: "x-kiln-log-tail",
  errorCode: "x-kiln-error-code",
} as const;

export const environmentPath = (id: string): string => `/v1/environments/${encodeURIComponent(id)}`;
export const invokePath = (id: string): string => `${environmentPath(id)}/invoke`;

export type Headers = Record<string, string | string[] | undefined>;
const one = (h: Headers, name: string): string | undefined => (Array.isArray(h[name]) ? (h[name] as string[])[0] : (h[name] as string | undefined));

export function invocationHeaders(inv: Omit<InvocationInput, "payload">): Record<string, string> {
  const h: Record<string, string> = { [H.requestId]: inv.requestId, [H.invokedArn]: inv.invokedArn, [H.timeoutMs]: String(inv.timeoutMs) };
  if (inv.clientContext !== undefined) h[H.clientContext] = Buffer.from(inv.clientContext, "utf8").toString("base64");
  return h;
}

/** The invocation in a request, or a message saying what is wrong with it. */
export function invocationFrom(h: Headers, payload: Buffer): InvocationInput | string {
  const requestId = one(h, H.requestId);
  const invokedArn = one(h, H.invokedArn);
  const timeoutMs = Number(one(h, H.timeoutMs));
  if (!requestId || !invokedArn) return `${H.requestId} and ${H.invokedArn} are required`;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) return `${H.timeoutMs} must be a positive number of milliseconds`;
  const inv: InvocationInput = { requestId, invokedArn, timeoutMs, payload };
  const cc = one(h, H.clientContext);
  if (cc !== undefined) inv.clientContext = Buffer.from(cc, "base64").toString("utf8");
  return inv;
}

export function outcomeHeaders(o: InvocationOutcome): Record<string, string> {
  const h: Record<string, string> = { [H.healthy]: String(o.healthy), [H.durationMs]: String(o.durationMs), [H.logTail]: o.logTail.toString("base64") };
  if (o.functionError) h[H.functionError] = o.functionError;
  if (o.initDurationMs !== undefined) h[H.initDurationMs] = String(o.initDurationMs);
  return h;
}

export function outcomeFrom(h: Headers, payload: Buffer): InvocationOutcome {
  const o: InvocationOutcome = {
    payload,
    healthy: one(h, H.healthy) !== "false",
    durationMs: Number(one(h, H.durationMs) ?? 0),
    logTail: Buffer.from(one(h, H.logTail) ?? "", "base64"),
  };
  if (one(h, H.functionError) === "Unhandled") o.functionError = "Unhandled";
  const init = one(h, H.initDurationMs);
  if (init !== undefined) o.initDurationMs = Number(init);
  return o;
}
