import { test } from "node:test";
import assert from "node:assert/strict";
import { buildUrlEvent, isTextContentType, requestTime, type UrlRequest } from "./function-url-event.js";

const ctx = { accountId: "000000000000", urlId: "a".repeat(32), region: "us-east-1", requestId: "req-1", timeEpoch: Date.UTC(2020, 2, 12, 19, 3, 58, 390) };
const request = (over: Partial<UrlRequest> = {}): UrlRequest => ({
  method: "GET",
  rawPath: "/hello/world",
  rawQueryString: "a=1&a=2&b=x%20y",
  headers: [["Host", "x"], ["X-Thing", "p"], ["x-thing", "q"], ["Cookie", "s=1; t=2"], ["User-Agent", "tests"]],
  body: Buffer.alloc(0),
  sourceIp: "127.0.0.1",
  protocol: "HTTP/1.1",
  ...over,
});

test("payload format 2.0: paths, query, cookies out of the headers, repeated headers joined, request context", () => {
  const e = buildUrlEvent(request(), ctx);
  assert.deepEqual(e, {
    version: "2.0",
    routeKey: "$default",
    rawPath: "/hello/world",
    rawQueryString: "a=1&a=2&b=x%20y",
    cookies: ["s=1", "t=2"],
    headers: { host: "x", "x-thing": "p,q", "user-agent": "tests" },
    queryStringParameters: { a: "1,2", b: "x y" },
    requestContext: {
      accountId: "anonymous",
      apiId: "a".repeat(32),
      domainName: `${"a".repeat(32)}.lambda-url.us-east-1.localhost`,
      domainPrefix: "a".repeat(32),
      http: { method: "GET", path: "/hello/world", protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "tests" },
      requestId: "req-1",
      routeKey: "$default",
      stage: "$default",
      time: "12/Mar/2020:19:03:58 +0000",
      timeEpoch: ctx.timeEpoch,
    },
    isBase64Encoded: false,
  });
});

test("no query string means no queryStringParameters; no cookies means no cookies", () => {
  const e = buildUrlEvent(request({ rawQueryString: "", headers: [] }), ctx);
  assert.equal("queryStringParameters" in e, false);
  assert.equal("cookies" in e, false);
  assert.equal("body" in e, false);
});

test("text bodies stay text, anything else is base64", () => {
  const json = buildUrlEvent(request({ method: "POST", headers: [["content-type", "application/json; charset=utf-8"]], body: Buffer.from('{"a":1}') }), ctx);
  assert.equal(json.body, '{"a":1}');
  assert.equal(json.isBase64Encoded, false);
  const bin = buildUrlEvent(request({ method: "POST", headers: [["content-type", "application/octet-stream"]], body: Buffer.from([0, 1, 2, 255]) }), ctx);
  assert.equal(bin.body, "AAEC/w==");
  assert.equal(bin.isBase64Encoded, true);
  const badUtf8 = buildUrlEvent(request({ method: "POST", headers: [["content-type", "text/plain"]], body: Buffer.from([0xff, 0xfe]) }), ctx);
  assert.equal(badUtf8.isBase64Encoded, true);
  assert.ok(isTextContentType("application/vnd.api+json"));
  assert.ok(isTextContentType("TEXT/HTML"));
  assert.ok(!isTextContentType("image/png"));
  assert.ok(!isTextContentType(undefined));
});

test("AWS_IAM requests carry the caller in requestContext.authorizer.iam", () => {
  const e = buildUrlEvent(request(), { ...ctx, iam: { accessKey: "AKIA1", accountId: "000000000000", userArn: "arn:aws:iam::000000000000:root", userId: "000000000000" } });
  const rc = e.requestContext as Record<string, unknown>;
  assert.equal(rc.accountId, "000000000000");
  assert.deepEqual((rc.authorizer as { iam: Record<string, unknown> }).iam.accessKey, "AKIA1");
  assert.equal(requestTime(Date.UTC(2026, 0, 5, 1, 2, 3)), "05/Jan/2026:01:02:03 +0000");
});
