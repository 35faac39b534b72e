/**
 * Raw SigV4-signed HTTP requests for end-to-end tests: the calls the SDK will not make (malformed
 * bodies, literal `:` in paths, skewed clocks, wrong secrets, Kiln's admin API). Signs with
 * @smithy/signature-v4 and the server's own node:crypto SHA-256, sends with fetch, and never
 * throws on an error status: the test reads status, error code and message itself.
 */
import { SignatureV4 } from "@smithy/signature-v4";
import { NodeSha256 } from "../../src/api/sha256.js";
import { ROOT_KEY } from "./kiln.js";

export interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface RawRequest {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** Path as it goes on the wire (already percent-encoded where wanted), with an optional `?query`. */
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  keys?: Keys;
  service?: string;
  region?: string;
  /** Sign as of this time instead of now (clock-skew tests). */
  signingDate?: Date;
  /** Send this body instead of the signed one (tampering tests). */
  sendBody?: string | Buffer;
}

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  /** `x-amzn-ErrorType`, the way the SDKs read it (cut at ':'). */
  errorType: string | undefined;
  /** `Message` or `message` of a JSON error body. */
  message: string | undefined;
  json(): unknown;
}

export async function signedFetch(baseUrl: string, req: RawRequest): Promise<RawResponse> {
  const url = new URL(baseUrl);
  const q = req.path.indexOf("?");
  const path = q < 0 ? req.path : req.path.slice(0, q);
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(q < 0 ? "" : req.path.slice(q + 1))) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const body = req.body === undefined ? undefined : Buffer.from(req.body);
  const signer = new SignatureV4({
    credentials: req.keys ?? ROOT_KEY,
    region: req.region ?? "us-east-1",
    service: req.service ?? "lambda",
    sha256: NodeSha256,
    uriEscapePath: true,
  });
  const headers: Record<string, string> = { host: url.host, ...lower(req.headers ?? {}) };
  if (body !== undefined) headers["content-length"] = String(body.length);
  const signed = await signer.sign(
    { method: req.method, protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path, query, headers, ...(body !== undefined ? { body } : {}) },
    req.signingDate ? { signingDate: req.signingDate } : {},
  );
  // fetch sets Host and Content-Length itself, to the same values that were signed.
  const { host: _h, "content-length": _l, ...send } = signed.headers;
  const sent = req.sendBody ?? body;
  const res = await fetch(`${url.origin}${req.path}`, { method: req.method, headers: send, ...(sent !== undefined ? { body: sent } : {}) });
  return readResponse(res);
}

/** An unsigned request, for the 403 cases and /healthz. */
export async function plainFetch(baseUrl: string, path: string, init: RequestInit = {}): Promise<RawResponse> {
  return readResponse(await fetch(`${new URL(baseUrl).origin}${path}`, init));
}

async function readResponse(res: Response): Promise<RawResponse> {
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === "object" && v !== null) body = v as Record<string, unknown>;
  } catch {
    // not JSON
  }
  const message = typeof body.Message === "string" ? body.Message : typeof body.message === "string" ? body.message : undefined;
  return {
    status: res.status,
    headers: res.headers,
    text,
    errorType: res.headers.get("x-amzn-errortype")?.split(":")[0] ?? undefined,
    message,
    json: () => JSON.parse(text) as unknown,
  };
}

/** Creates an account through Kiln's admin API, as root; returns its id and key pair. */
export async function createAccount(baseUrl: string, name: string): Promise<{ AccountId: string; AccessKeyId: string; SecretAccessKey: string }> {
  const r = await signedFetch(baseUrl, { method: "POST", path: "/kiln/2026-01-01/accounts", body: JSON.stringify({ Name: name }), headers: { "content-type": "application/json" } });
  if (r.status !== 201) throw new Error(`creating account ${name}: ${r.status} ${r.text}`);
  return r.json() as { AccountId: string; AccessKeyId: string; SecretAccessKey: string };
}

export const keysOf = (a: { AccessKeyId: string; SecretAccessKey: string }): Keys => ({ accessKeyId: a.AccessKeyId, secretAccessKey: a.SecretAccessKey });

function lower(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}
