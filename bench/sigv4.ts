/**
 * The Invoke request exactly as AWS SDK v3 (@aws-sdk/client-lambda) sends it: the same headers,
 * SigV4-signed afresh for every request with a new amz-sdk-invocation-id, so the server verifies a
 * different signature each time, as it would under real SDK traffic.
 *
 * Load generators call setupRequest synchronously, and @smithy/signature-v4 is asynchronous, so the
 * signature is computed here with node:crypto. `selfCheck()` proves it byte-identical to
 * @smithy/signature-v4's for the same request before any number is taken.
 */
import { createHash, createHmac, randomUUID } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import { NodeSha256 } from "../src/api/sha256.js";

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** What SDK v3 3.x sends (captured from @aws-sdk/client-lambda against a plain HTTP server). */
const SDK_VERSION = "3.1163.0";
const USER_AGENT = `aws-sdk-js/${SDK_VERSION} ua/2.1 os/linux lang/js md/nodejs#${process.versions.node} api/lambda#${SDK_VERSION} m/N,E,e`;

export interface InvokeRequestSpec {
  /** "127.0.0.1:9900": the Host header. */
  host: string;
  functionName: string;
  payload: string;
  region: string;
  credentials: Credentials;
  /** Send X-Amz-Log-Type: Tail (the REPORT line comes back in X-Amz-Log-Result). */
  logTail?: boolean;
  /** Send X-Amz-Invocation-Type (e.g. Event: an asynchronous invoke, answered 202). */
  invocationType?: "Event" | "RequestResponse" | "DryRun";
}

export interface SignedInvoke {
  method: "POST";
  path: string;
  headers: Record<string, string>;
  body: string;
}

const sha256Hex = (data: string): string => createHash("sha256").update(data).digest("hex");
const hmac = (key: Buffer | string, data: string): Buffer => createHmac("sha256", key).update(data).digest();

/** "20261129T210931Z" */
export const amzDate = (d: Date): string => d.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");

/** Signs Invoke requests for one function; reuse it for every request (the signing key is cached per day). */
export class InvokeSigner {
  readonly path: string;
  private readonly payloadHash: string;
  private keyDay = "";
  private key: Buffer = Buffer.alloc(0);

  constructor(private readonly spec: InvokeRequestSpec) {
    this.path = `/2015-03-31/functions/${encodeURIComponent(spec.functionName)}/invocations`;
    this.payloadHash = sha256Hex(spec.payload);
  }

  /** The unsigned headers, in the order the SDK sends them. */
  private baseHeaders(date: string, invocationId: string): Record<string, string> {
    return {
      ...(this.spec.invocationType !== undefined ? { "x-amz-invocation-type": this.spec.invocationType } : {}),
      ...(this.spec.logTail === true ? { "x-amz-log-type": "Tail" } : {}),
      "content-type": "application/octet-stream",
      "content-length": String(Buffer.byteLength(this.spec.payload)),
      "x-amz-user-agent": `aws-sdk-js/${SDK_VERSION}`,
      "user-agent": USER_AGENT,
      host: this.spec.host,
      "amz-sdk-invocation-id": invocationId,
      "amz-sdk-request": "attempt=1; max=1",
      "x-amz-date": date,
      "x-amz-content-sha256": this.payloadHash,
    };
  }

  sign(now = new Date(), invocationId: string = randomUUID()): SignedInvoke {
    const date = amzDate(now);
    const day = date.slice(0, 8);
    const headers = this.baseHeaders(date, invocationId);
    const names = Object.keys(headers)
      .filter((n) => n !== "user-agent")
      .sort();
    const canonical = ["POST", this.path, "", ...names.map((n) => `${n}:${headers[n]!.trim()}`), "", names.join(";"), this.payloadHash].join("\n");
    const scope = `${day}/${this.spec.region}/lambda/aws4_request`;
    const stringToSign = ["AWS4-HMAC-SHA256", date, scope, sha256Hex(canonical)].join("\n");
    if (this.keyDay !== day) {
      this.key = hmac(hmac(hmac(hmac(`AWS4${this.spec.credentials.secretAccessKey}`, day), this.spec.region), "lambda"), "aws4_request");
      this.keyDay = day;
    }
    const signature = hmac(this.key, stringToSign).toString("hex");
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${this.spec.credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`;
    return { method: "POST", path: this.path, headers, body: this.spec.payload };
  }

  /** Throws unless @smithy/signature-v4 (what the SDK and Kiln use) computes the same Authorization header. */
  async selfCheck(): Promise<void> {
    const now = new Date();
    const id = randomUUID();
    const mine = this.sign(now, id);
    const reference = new SignatureV4({ credentials: this.spec.credentials, region: this.spec.region, service: "lambda", sha256: NodeSha256, applyChecksum: false, uriEscapePath: true });
    const [hostname, port] = this.spec.host.split(":");
    const headers = this.baseHeaders(amzDate(now), id);
    const signed = await reference.sign(
      { method: "POST", protocol: "http:", hostname: hostname ?? "", ...(port !== undefined ? { port: Number(port) } : {}), path: this.path, query: {}, headers, body: this.spec.payload },
      { signingDate: now },
    );
    const expected = String(signed.headers.authorization ?? signed.headers.Authorization);
    if (expected !== mine.headers.authorization) throw new Error(`SigV4 self-check failed:\n  mine:   ${mine.headers.authorization}\n  smithy: ${expected}`);
  }
}
