/**
 * An HTTP request to a function URL as Lambda's function URL event (payload format version 2.0,
 * https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads). Pure.
 *
 *   GET /hello/world?a=1&a=2&b=x  Cookie: s=1; t=2  X-Thing: p  X-Thing: q
 *   -> { version: "2.0", routeKey: "$default", rawPath: "/hello/world", rawQueryString: "a=1&a=2&b=x",
 *        cookies: ["s=1", "t=2"], headers: { "x-thing": "p,q", ... }, queryStringParameters: { a: "1,2", b: "x" },
 *        requestContext: { http: { method: "GET", path: "/hello/world", ... }, ... }, isBase64Encoded: false }
 *
 * Header names are lowercased, repeated headers joined with commas, cookies moved out of the
 * headers into `cookies`. The body is text when its content type says so (and it is valid UTF-8),
 * otherwise base64 with isBase64Encoded true; there is no `body` key for an empty body.
 */

export interface UrlRequest {
  method: string;
  /** The path the function sees (for the path-prefix form, without Kiln's prefix), still percent-encoded. */
  rawPath: string;
  /** Without the `?`. */
  rawQueryString: string;
  /** Header name/value pairs as received (Node's rawHeaders, paired). */
  headers: Array<[name: string, value: string]>;
  body: Buffer;
  sourceIp: string;
  protocol: string;
}

export interface UrlEventContext {
  accountId: string;
  urlId: string;
  region: string;
  requestId: string;
  timeEpoch: number;
  /** Set for AuthType AWS_IAM: who signed the request. */
  iam?: { accessKey: string; accountId: string; userArn: string; userId: string };
}

const TEXT_TYPES = [/^text\//, /^application\/(.+\+)?json\b/, /^application\/(.+\+)?xml\b/, /^application\/javascript\b/, /^application\/ecmascript\b/];

export function isTextContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const t = contentType.trim().toLowerCase();
  return TEXT_TYPES.some((re) => re.test(t));
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
/** `12/Mar/2020:19:03:58 +0000`, the requestContext.time format. */
export function requestTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

function decodeUtf8(b: Buffer): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(b);
  } catch {
    return undefined;
  }
}

export function buildUrlEvent(req: UrlRequest, ctx: UrlEventContext): Record<string, unknown> {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [rawName, value] of req.headers) {
    const name = rawName.toLowerCase();
    if (name === "cookie") {
      for (const c of value.split(";")) if (c.trim() !== "") cookies.push(c.trim());
      continue;
    }
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(req.rawQueryString)) query[k] = query[k] === undefined ? v : `${query[k]},${v}`;
  const domainName = `${ctx.urlId}.lambda-url.${ctx.region}.localhost`;
  const requestContext: Record<string, unknown> = {
    accountId: ctx.iam ? ctx.iam.accountId : "anonymous",
    apiId: ctx.urlId,
    domainName,
    domainPrefix: ctx.urlId,
    http: { method: req.method, path: req.rawPath, protocol: req.protocol, sourceIp: req.sourceIp, userAgent: headers["user-agent"] ?? "" },
    requestId: ctx.requestId,
    routeKey: "$default",
    stage: "$default",
    time: requestTime(ctx.timeEpoch),
    timeEpoch: ctx.timeEpoch,
  };
  if (ctx.iam) {
    requestContext.authorizer = {
      iam: { accessKey: ctx.iam.accessKey, accountId: ctx.iam.accountId, callerId: ctx.iam.userId, cognitoIdentity: null, principalOrgId: null, userArn: ctx.iam.userArn, userId: ctx.iam.userId },
    };
  }
  const event: Record<string, unknown> = {
    version: "2.0",
    routeKey: "$default",
    rawPath: req.rawPath,
    rawQueryString: req.rawQueryString,
  };
  if (cookies.length > 0) event.cookies = cookies;
  event.headers = headers;
  if (req.rawQueryString !== "") event.queryStringParameters = query;
  event.requestContext = requestContext;
  let isBase64Encoded = false;
  if (req.body.length > 0) {
    const text = isTextContentType(headers["content-type"]) ? decodeUtf8(req.body) : undefined;
    if (text !== undefined) event.body = text;
    else {
      event.body = req.body.toString("base64");
      isBase64Encoded = true;
    }
  }
  event.isBase64Encoded = isBase64Encoded;
  return event;
}
