/**
 * The function URL data path, served on the API's own port over plain HTTP, in two forms:
 *
 *   Host form:   any request whose Host is `<url-id>.lambda-url.<region>.<anything>`, e.g.
 *                `curl http://<url-id>.lambda-url.us-east-1.localhost:9900/path` (curl and browsers
 *                resolve *.localhost to loopback) or `curl -H 'Host: <url-id>.lambda-url.us-east-1.localhost'
 *                http://127.0.0.1:9900/path`. This is the FunctionUrl Kiln reports.
 *   Path form:   `http://127.0.0.1:9900/lambda-url/<url-id>/path`, for clients that can neither set
 *                Host nor resolve *.localhost (fetch in Node); the function sees `/path`.
 *
 * AuthType AWS_IAM requires a SigV4 signature (service `lambda`) by the account owning the
 * function, over the request exactly as sent (Host and path included). A URL that does not exist
 * (or no longer does) answers 403 Forbidden, as AWS does.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { KilnError, type Logger } from "../base/index.js";
import type { Accounts, FunctionUrlRegistry } from "../control/index.js";
import type { FunctionUrlInvoker, UrlResponse } from "../frontend/index.js";
import type { SigV4Verifier } from "./sigv4.js";

export const URL_PATH_PREFIX = "/lambda-url/";
const HOST_FORM = /^([a-z0-9]{32})\.lambda-url\.[a-z0-9-]+\./;
const URL_ID = /^[a-z0-9]{32}$/;

export interface UrlTarget {
  urlId: string;
  /** The path the function sees. */
  rawPath: string;
}

/** Which function URL a request is for, if any (pure). `rawPath` is the request's path without its query. */
export function urlTarget(host: string | undefined, rawPath: string): UrlTarget | undefined {
  const m = host === undefined ? null : HOST_FORM.exec(host.toLowerCase());
  if (m) return { urlId: m[1]!, rawPath };
  if (!rawPath.startsWith(URL_PATH_PREFIX)) return undefined;
  const rest = rawPath.slice(URL_PATH_PREFIX.length);
  const slash = rest.indexOf("/");
  const urlId = slash < 0 ? rest : rest.slice(0, slash);
  if (!URL_ID.test(urlId)) return undefined;
  return { urlId, rawPath: slash < 0 ? "/" : rest.slice(slash) };
}

/** The FunctionUrl Kiln reports: the Host form on the API's port. */
export const functionUrlAddress = (urlId: string, region: string, port: number): string => `http://${urlId}.lambda-url.${region}.localhost:${port}/`;

export interface GatewayDeps {
  urls: FunctionUrlRegistry;
  invoker: FunctionUrlInvoker;
  verifier: SigV4Verifier;
  accounts: Accounts;
  region: string;
  log: Logger;
  now(): number;
}

const forbidden = (): KilnError => new KilnError("AccessDeniedException", "Forbidden");

export class FunctionUrlGateway {
  constructor(private readonly d: GatewayDeps) {}

  /** Serves one request for `target`; throws KilnErrors for the server's error writer. */
  async handle(req: IncomingMessage, res: ServerResponse, target: UrlTarget, body: Buffer, requestId: string): Promise<void> {
    const url = await this.d.urls.byUrlId(target.urlId);
    if (!url) throw forbidden();
    const rawUrl = req.url ?? "/";
    const q = rawUrl.indexOf("?");
    const rawQueryString = q < 0 ? "" : rawUrl.slice(q + 1);
    const headers: Array<[string, string]> = [];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
    const preflight = url.cors !== undefined && req.method === "OPTIONS" && req.headers.origin !== undefined && req.headers["access-control-request-method"] !== undefined;
    let iam: { accessKey: string; accountId: string; userArn: string; userId: string } | undefined;
    if (url.authType === "AWS_IAM" && !preflight) {
      if (req.headers.authorization === undefined) throw forbidden();
      const auth = await this.d.verifier.verify(
        { method: req.method ?? "GET", rawPath: q < 0 ? rawUrl : rawUrl.slice(0, q), query: new URLSearchParams(rawQueryString), headers: req.headers, body },
        ["lambda"],
      );
      if (auth.region !== this.d.region) throw new KilnError("InvalidSignatureException", `Credential should be scoped to a valid region, not '${auth.region}'.`);
      const account = await this.d.accounts.byAccessKey(auth.accessKeyId);
      if (!account || account.accountId !== url.accountId) throw forbidden();
      iam = { accessKey: auth.accessKeyId, accountId: account.accountId, userArn: `arn:aws:iam::${account.accountId}:root`, userId: account.accountId };
    }
    const response = await this.d.invoker.handle({
      url,
      request: {
        method: req.method ?? "GET",
        rawPath: target.rawPath,
        rawQueryString,
        headers,
        body,
        sourceIp: (req.socket.remoteAddress ?? "127.0.0.1").replace(/^::ffff:/, ""),
        protocol: `HTTP/${req.httpVersion}`,
      },
      requestId,
      timeEpoch: this.d.now(),
      ...(iam ? { iam } : {}),
    });
    writeUrlResponse(res, response, requestId);
  }
}

export function writeUrlResponse(res: ServerResponse, r: UrlResponse, requestId: string): void {
  res.statusCode = r.statusCode;
  for (const [name, value] of r.headers) {
    const lower = name.toLowerCase();
    if (lower === "content-length" || lower === "transfer-encoding" || lower === "connection") continue;
    res.appendHeader(name, value);
  }
  res.setHeader("x-amzn-RequestId", requestId);
  res.setHeader("Content-Length", r.body.length);
  res.end(r.body);
}
