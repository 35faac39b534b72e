/**
 * SigV4-signed requests to Kiln's own endpoints that the Lambda SDK does not cover: the
 * CloudWatch-Logs-compatible endpoint (service `logs`, JSON 1.1) and the admin API
 * (`/kiln/2026-01-01/...`, service `lambda`). Signs with @smithy/signature-v4 and a SHA-256
 * built on node:crypto, sends with fetch, and turns error answers into ApiError.
 */
import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import { ApiError } from "./errors.js";
import type { Target } from "./target.js";

type SourceData = string | ArrayBuffer | ArrayBufferView;

function toBuffer(data: SourceData): Buffer {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** The hash constructor SignatureV4 expects: plain SHA-256, or HMAC-SHA-256 when given a key. */
export class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", toBuffer(secret));
  }
  update(data: SourceData): void {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

export interface SignedRequest {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** Path below the endpoint, starting with '/'. */
  path: string;
  /** SigV4 service name: `lambda` or `logs`. */
  service: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface SignedResponse {
  status: number;
  headers: Headers;
  text: string;
}

/** Sends one signed request; a non-2xx answer becomes an ApiError with the AWS error code. */
export async function signedFetch(target: Target, req: SignedRequest): Promise<SignedResponse> {
  const url = new URL(req.path, target.endpoint);
  const signer = new SignatureV4({ credentials: target.credentials, region: target.region, service: req.service, sha256: NodeSha256 });
  const headers: Record<string, string> = { host: url.host, ...lowerCaseKeys(req.headers ?? {}) };
  const signed = await signer.sign({
    method: req.method,
    protocol: url.protocol,
    hostname: url.hostname,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers,
    ...(url.port ? { port: Number(url.port) } : {}),
    ...(req.body === undefined ? {} : { body: req.body }),
  });
  // fetch sets Host itself, to the same url.host that was signed.
  const { host: _host, ...sendHeaders } = signed.headers;
  const res = await fetch(url, { method: req.method, headers: sendHeaders, ...(req.body === undefined ? {} : { body: req.body }) });
  const text = await res.text();
  if (res.status < 200 || res.status > 299) throw apiErrorFrom(res.status, res.headers, text);
  return { status: res.status, headers: res.headers, text };
}

/**
 * The AWS error code and message of an error answer, read the way the AWS SDKs do:
 * `x-amzn-ErrorType` first (cut at ':' and after '#'), else `__type`/`code` in the body;
 * message from `message`/`Message`.
 */
export function apiErrorFrom(status: number, headers: Headers, text: string): ApiError {
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null) body = parsed as Record<string, unknown>;
  } catch {
    // not JSON: fall back to the status line
  }
  const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
  const rawCode = str(headers.get("x-amzn-errortype")) ?? str(body.__type) ?? str(body.code) ?? str(body.Code) ?? `HTTP${status}`;
  const code = rawCode.split(/[,:]/)[0]!.split("#").pop()!;
  const message = str(body.message) ?? str(body.Message) ?? (text.trim().slice(0, 200) || `HTTP ${status}`);
  return new ApiError(code, message, status, headers.get("x-amzn-requestid") ?? undefined);
}

function lowerCaseKeys(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}
