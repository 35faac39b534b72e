/**
 * SigV4 verification of incoming requests. The expected signature is computed with
 * @smithy/signature-v4 (the SDK's own signer) over exactly the headers the client signed, then
 * compared in constant time. Credential lookup is injected.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import { KilnError } from "../base/index.js";
import { NodeSha256 } from "./sha256.js";

/** AWS refuses requests whose X-Amz-Date is more than 5 minutes away from its clock. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

const PAYLOAD_HASH_HEADER = "x-amz-content-sha256";

export interface SignedRequest {
  method: string;
  /** Path exactly as received (still percent-encoded). */
  rawPath: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface Authorization {
  accessKeyId: string;
  region: string;
  service: string;
}

interface ParsedAuth {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/\s,]+)\/(\d{8})\/([^/\s,]+)\/([^/\s,]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;\-_.]+),\s*Signature=([0-9a-f]{64})$/;

function parse(header: string): ParsedAuth {
  const m = AUTH.exec(header.trim());
  if (!m) {
    throw new KilnError(
      "IncompleteSignatureException",
      "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters of an AWS4-HMAC-SHA256 signature.",
    );
  }
  return { accessKeyId: m[1]!, date: m[2]!, region: m[3]!, service: m[4]!, signedHeaders: m[5]!.split(";"), signature: m[6]! };
}

function amzDate(s: string | undefined): Date | undefined {
  const m = s ? /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s) : null;
  return m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : undefined;
}

const header = (h: SignedRequest["headers"], name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v.join(",") : v;
};

export class SigV4Verifier {
  private readonly signers = new Map<string, SignatureV4>();

  constructor(private readonly secretFor: (accessKeyId: string) => Promise<string | undefined>, private readonly now: () => number = Date.now) {}

  async verify(req: SignedRequest, expectedServices: readonly string[]): Promise<Authorization> {
    const authHeader = header(req.headers, "authorization");
    if (!authHeader) throw new KilnError("MissingAuthenticationTokenException", "Missing Authentication Token");
    const auth = parse(authHeader);
    if (!expectedServices.includes(auth.service)) {
      throw new KilnError("InvalidSignatureException", `Credential should be scoped to correct service: '${expectedServices[0]}'.`);
    }
    const dateHeader = header(req.headers, "x-amz-date");
    const date = amzDate(dateHeader);
    if (!date) throw new KilnError("IncompleteSignatureException", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
    const skew = date.getTime() - this.now();
    if (Math.abs(skew) > MAX_CLOCK_SKEW_MS) {
      const fmt = (t: number) => new Date(t).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
      throw new KilnError(
        "InvalidSignatureException",
        skew < 0
          ? `Signature expired: ${dateHeader} is now earlier than ${fmt(this.now() - MAX_CLOCK_SKEW_MS)} (${fmt(this.now())} - 5 min.)`
          : `Signature not yet current: ${dateHeader} is still later than ${fmt(this.now() + MAX_CLOCK_SKEW_MS)} (${fmt(this.now())} + 5 min.)`,
      );
    }
    if (!dateHeader!.startsWith(auth.date)) throw new KilnError("InvalidSignatureException", "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP.");
    if (!auth.signedHeaders.includes("host")) throw new KilnError("InvalidSignatureException", "'Host' must be a 'SignedHeader' in the AWS Authorization.");
    const secret = await this.secretFor(auth.accessKeyId);
    if (secret === undefined) throw new KilnError("UnrecognizedClientException", "The security token included in the request is invalid.");

    const headers: Record<string, string> = {};
    for (const name of auth.signedHeaders) {
      const v = header(req.headers, name);
      if (v === undefined) throw new KilnError("InvalidSignatureException", `The request signature we calculated does not match the signature you provided: signed header '${name}' is missing.`);
      headers[name] = v;
    }
    // A client-sent payload hash is never trusted: the signer would take it instead of hashing the
    // body, so a captured request could be replayed with another body of the same length.
    if (headers[PAYLOAD_HASH_HEADER] !== undefined) headers[PAYLOAD_HASH_HEADER] = createHash("sha256").update(req.body).digest("hex");
    const query: Record<string, string | string[]> = {};
    for (const [k, v] of req.query) {
      const prev = query[k];
      query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    const signed = await this.signer(auth.accessKeyId, secret, auth.region, auth.service).sign(
      { method: req.method, protocol: "http:", hostname: headers.host ?? "", path: req.rawPath, query, headers, body: req.body },
      { signingDate: date, signableHeaders: new Set(auth.signedHeaders), signingRegion: auth.region, signingService: auth.service },
    );
    const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization ?? signed.headers.Authorization))?.[1] ?? "";
    if (expected.length !== 64 || !timingSafeEqual(Buffer.from(expected), Buffer.from(auth.signature))) {
      throw new KilnError(
        "InvalidSignatureException",
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
      );
    }
    return { accessKeyId: auth.accessKeyId, region: auth.region, service: auth.service };
  }

  private signer(accessKeyId: string, secretAccessKey: string, region: string, service: string): SignatureV4 {
    const key = `${accessKeyId}\0${secretAccessKey}\0${region}\0${service}`;
    let s = this.signers.get(key);
    if (!s) {
      s = new SignatureV4({ credentials: { accessKeyId, secretAccessKey }, region, service, sha256: NodeSha256, applyChecksum: false, uriEscapePath: true });
      if (this.signers.size > 1000) this.signers.clear();
      this.signers.set(key, s);
    }
    return s;
  }
}
