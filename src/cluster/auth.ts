/**
 * Node auth: requests between Kiln nodes (frontend -> worker, CLI -> worker) are signed with the
 * cluster's shared secret. Pure functions; the HTTP edges call them.
 *
 * Algorithm: signature = hex(HMAC-SHA256(secret, string-to-sign)) where
 *   string-to-sign = "KILN-NODE-HMAC-SHA256\n" + METHOD + "\n" + path (with query) + "\n" + date + "\n" + hex(sha256(body))
 *                    + "\n" + every other `x-kiln-*` header as "name:value", sorted by name, one per line
 * and `date` is the signer's clock in epoch milliseconds (decimal). The signature travels in
 * `x-kiln-node-signature`, the date in `x-kiln-node-date`. The verifier recomputes it over the bytes
 * it received, refuses a date more than 5 minutes away from its clock, and compares in constant time.
 *
 * Worked example: POST /v1/environments/e1/invoke, body `{}`, date 1767225600000: the string to
 * sign ends with "1767225600000\n44136fa3...e5a" (sha256 of `{}`); change a byte of the body, the
 * path, or the date and the HMAC no longer matches (403 NodeSignatureMismatch); sign with the
 * right secret but a date 6 minutes old and it is refused (401 NodeSignatureExpired).
 *
 * Known caveats: a captured request can be replayed within the 5-minute window (no nonce cache);
 * the secret is symmetric, so every node holding it can act as any other; the signature covers the
 * request but does not hide it: keep the network between nodes private (or put TLS in front).
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export const NODE_SIGNATURE_HEADER = "x-kiln-node-signature";
export const NODE_DATE_HEADER = "x-kiln-node-date";
/** Same window as SigV4: AWS refuses requests whose date is more than 5 minutes away. */
export const MAX_NODE_CLOCK_SKEW_MS = 5 * 60_000;
const ALGORITHM = "KILN-NODE-HMAC-SHA256";

export type NodeAuthErrorCode = "MissingNodeSignature" | "NodeSignatureExpired" | "NodeSignatureMismatch";

/** A refused node request; `status` is what the server answers (401: missing/expired, 403: mismatch). */
export class NodeAuthError extends Error {
  readonly status: 401 | 403;
  constructor(readonly code: NodeAuthErrorCode, message: string) {
    super(message);
    this.name = code;
    this.status = code === "NodeSignatureMismatch" ? 403 : 401;
  }
}

export interface NodeRequest {
  method: string;
  /** The path as sent, query included. */
  path: string;
  body: Uint8Array;
  /** Headers as sent: every `x-kiln-*` one (invocation metadata) is signed too. */
  headers?: Record<string, string | string[] | undefined>;
}

/** The signed headers: `x-kiln-*` but the signature's own two, lower-cased, sorted. */
function canonicalHeaders(headers: NodeRequest["headers"]): string {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(headers ?? {})) {
    const n = name.toLowerCase();
    if (!n.startsWith("x-kiln-") || n === NODE_SIGNATURE_HEADER || n === NODE_DATE_HEADER || value === undefined) continue;
    lines.push(`${n}:${Array.isArray(value) ? value.join(",") : value}`);
  }
  return lines.sort().join("\n");
}

const sha256Hex = (body: Uint8Array): string => createHash("sha256").update(body).digest("hex");

export function stringToSign(req: NodeRequest, date: string): string {
  return `${ALGORITHM}\n${req.method.toUpperCase()}\n${req.path}\n${date}\n${sha256Hex(req.body)}\n${canonicalHeaders(req.headers)}`;
}

function signature(secret: string, req: NodeRequest, date: string): string {
  return createHmac("sha256", secret).update(stringToSign(req, date)).digest("hex");
}

/** The headers that authenticate `req`, signed at `now` (epoch ms). */
export function signNodeRequest(secret: string, req: NodeRequest, now: number): Record<string, string> {
  const date = String(Math.floor(now));
  return { [NODE_DATE_HEADER]: date, [NODE_SIGNATURE_HEADER]: signature(secret, req, date) };
}

const headerOf = (headers: Record<string, string | string[] | undefined>, name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/** Throws NodeAuthError unless `req` carries a valid signature by `secret` dated within the window around `now`. */
export function verifyNodeRequest(secret: string, req: NodeRequest & { headers: Record<string, string | string[] | undefined> }, now: number): void {
  const date = headerOf(req.headers, NODE_DATE_HEADER);
  const given = headerOf(req.headers, NODE_SIGNATURE_HEADER);
  if (date === undefined || given === undefined) {
    throw new NodeAuthError("MissingNodeSignature", `Requests between Kiln nodes must carry ${NODE_SIGNATURE_HEADER} and ${NODE_DATE_HEADER} (signed with the cluster secret).`);
  }
  if (!/^\d{1,16}$/.test(date)) throw new NodeAuthError("MissingNodeSignature", `${NODE_DATE_HEADER} must be epoch milliseconds, got ${JSON.stringify(date.slice(0, 32))}.`);
  const skew = Number(date) - now;
  if (Math.abs(skew) > MAX_NODE_CLOCK_SKEW_MS) {
    throw new NodeAuthError(
      "NodeSignatureExpired",
      `The node signature's date ${new Date(Number(date)).toISOString()} is ${Math.round(Math.abs(skew) / 1000)} s ${skew < 0 ? "old" : "ahead"} (at most ${MAX_NODE_CLOCK_SKEW_MS / 1000} s allowed): check the nodes' clocks.`,
    );
  }
  const expected = Buffer.from(signature(secret, req, date), "utf8");
  const got = Buffer.from(given, "utf8");
  if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
    throw new NodeAuthError("NodeSignatureMismatch", "The node signature does not match: the request was altered, or the nodes do not share the same cluster secret.");
  }
}
