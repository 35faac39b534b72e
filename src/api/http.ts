/** Request context and response shapes shared by the routes. */
import type { IncomingHttpHeaders } from "node:http";
import { KilnError } from "../base/index.js";
import type { AccountRecord } from "../control/index.js";

export interface RequestContext {
  requestId: string;
  account: AccountRecord;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface ApiResponse {
  status: number;
  json?: unknown;
  raw?: Buffer;
  headers?: Record<string, string>;
}

export type Handler = (ctx: RequestContext) => Promise<ApiResponse>;

export interface RouteSpec {
  handler: Handler;
  /** Largest body this operation takes, and the error past it. */
  maxBody: number;
  tooLarge: () => KilnError;
  rootOnly?: boolean;
}

/** Parses a JSON object body; empty = {}. */
export function jsonBody(ctx: RequestContext): Record<string, unknown> {
  if (ctx.body.length === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(ctx.body.toString("utf8"));
  } catch (e) {
    throw new KilnError("InvalidRequestContentException", `Could not parse request body into json: ${(e as Error).message}`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new KilnError("InvalidRequestContentException", "Could not parse request body into json: expected a JSON object");
  return v as Record<string, unknown>;
}

export const header = (ctx: RequestContext, name: string): string | undefined => {
  const v = ctx.headers[name];
  return Array.isArray(v) ? v[0] : v;
};
