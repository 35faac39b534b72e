/**
 * End to end, function URLs against a real standalone server with real sandboxes: the
 * configuration APIs through @aws-sdk/client-lambda and the AWS CLI, then the URLs called with
 * plain HTTP (fetch on the path form, node:http with a Host header on the reported form): the
 * payload 2.0 event the function gets, the HTTP response its result becomes (structured, the plain
 * string and object shortcuts, base64 bodies, cookies), 502 on function errors, AWS_IAM refused
 * unsigned and accepted signed by the owner, CORS preflights answered without invoking, throttling
 * through the same counting as Invoke, and every bad input with AWS's exception, status and message.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { SignatureV4 } from "@smithy/signature-v4";
import {
  CreateFunctionUrlConfigCommand,
  DeleteFunctionCommand,
  DeleteFunctionUrlConfigCommand,
  GetFunctionUrlConfigCommand,
  ListFunctionUrlConfigsCommand,
  UpdateFunctionUrlConfigCommand,
  type LambdaClient,
} from "@aws-sdk/client-lambda";
import { NodeSha256 } from "../../src/api/sha256.js";
import { ROOT_KEY, startKiln, type TestKiln } from "../support/kiln.js";
import { rejectsAws } from "../support/aws-errors.js";
import { createAccount, keysOf, plainFetch, signedFetch, type Keys } from "../support/signed-fetch.js";

const ARN = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;
const URL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

const ECHO = `
exports.handler = async (event) => {
  switch (event.rawPath) {
    case "/string": return "plain string";
    case "/object": return { hello: "object" };
    case "/fail": throw new Error("boom");
    case "/binary": return { statusCode: 200, headers: { "content-type": "application/octet-stream" }, body: Buffer.from([0, 1, 2, 255]).toString("base64"), isBase64Encoded: true };
    case "/slow": await new Promise((r) => setTimeout(r, 1500)); return "slow";
  }
  if (event.requestContext.http.method === "OPTIONS") return { statusCode: 418, body: "the function ran" };
  return {
    statusCode: 201,
    headers: { "x-echo": "yes", "content-type": "application/json", "access-control-allow-origin": "https://from-function.example" },
    cookies: ["a=1; Path=/", "b=2"],
    body: JSON.stringify(event),
  };
};`;

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A request to 127.0.0.1:port carrying the given Host header (what fetch cannot send). */
function hostRequest(port: number, host: string, opts: { method?: string; path?: string; headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, method: opts.method ?? "GET", path: opts.path ?? "/", headers: { ...opts.headers, host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

/** SigV4 (service lambda) over a request to the Host form, as an AWS SDK would sign it. */
async function signedHostRequest(port: number, host: string, path: string, keys: Keys): Promise<Answer> {
  const signer = new SignatureV4({ credentials: keys, region: "us-east-1", service: "lambda", sha256: NodeSha256, uriEscapePath: true });
  const signed = await signer.sign({ method: "GET", protocol: "http:", hostname: host.split(":")[0]!, port, path, query: {}, headers: { host } });
  return hostRequest(port, host, { path, headers: signed.headers as Record<string, string> });
}

describe("function URLs", { timeout: 110_000 }, () => {
  let t: TestKiln;
  let c: LambdaClient;
  let echoUrl: string;
  let echoId: string;

  const json = (b: Buffer) => JSON.parse(b.toString()) as Record<string, unknown> & { requestContext: Record<string, unknown> & { http: Record<string, string> } };

  before(async () => {
    t = await startKiln({ accountConcurrency: 1 });
    c = t.client();
    await t.deploy("echo", "nodejs20.x", "index.handler", { "index.js": ECHO });
  });

  after(async () => {
    await t?.stop();
  });

  test("CreateFunctionUrlConfig answers 201 with the URL Kiln serves; Get and List report it", async () => {
    const created = await c.send(new CreateFunctionUrlConfigCommand({ FunctionName: "echo", AuthType: "NONE" }));
    assert.equal(created.$metadata.httpStatusCode, 201);
    assert.match(created.FunctionUrl ?? "", new RegExp(`^http://[a-z0-9]{32}\\.lambda-url\\.us-east-1\\.localhost:${t.port}/$`));
    assert.equal(created.FunctionArn, ARN("echo"));
    assert.equal(created.AuthType, "NONE");
    assert.equal(created.InvokeMode, "BUFFERED");
    assert.match(created.CreationTime ?? "", URL_TIME);
    echoUrl = created.FunctionUrl!;
    echoId = new URL(echoUrl).hostname.split(".")[0]!;

    const got = await c.send(new GetFunctionUrlConfigCommand({ FunctionName: ARN("echo") }));
    assert.equal(got.FunctionUrl, echoUrl);
    assert.match(got.LastModifiedTime ?? "", URL_TIME);
    const listed = await c.send(new ListFunctionUrlConfigsCommand({ FunctionName: "echo" }));
    assert.deepEqual(listed.FunctionUrlConfigs?.map((u) => [u.FunctionUrl, u.AuthType]), [[echoUrl, "NONE"]]);
  });

  test("plain HTTP on the path form: the payload 2.0 event, and the structured result as the response", async () => {
    const r = await fetch(`${t.url}/lambda-url/${echoId}/some/path?x=1&x=2&y=z`, { headers: { cookie: "s=1; t=2", "x-custom": "v", "user-agent": "url-test" } });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get("x-echo"), "yes");
    assert.deepEqual(r.headers.getSetCookie(), ["a=1; Path=/", "b=2"]);
    assert.match(r.headers.get("x-amzn-requestid") ?? "", /^[0-9a-f-]{36}$/);
    const event = (await r.json()) as ReturnType<typeof json>;
    assert.equal(event.version, "2.0");
    assert.equal(event.routeKey, "$default");
    assert.equal(event.rawPath, "/some/path");
    assert.equal(event.rawQueryString, "x=1&x=2&y=z");
    assert.deepEqual(event.queryStringParameters, { x: "1,2", y: "z" });
    assert.deepEqual(event.cookies, ["s=1", "t=2"]);
    const headers = event.headers as Record<string, string>;
    assert.equal(headers["x-custom"], "v");
    assert.equal(headers.cookie, undefined, "cookies move out of the headers");
    assert.equal(event.isBase64Encoded, false);
    assert.equal(event.body, undefined);
    const rc = event.requestContext;
    assert.equal(rc.accountId, "anonymous");
    assert.equal(rc.apiId, echoId);
    assert.equal(rc.domainPrefix, echoId);
    assert.equal(rc.domainName, `${echoId}.lambda-url.us-east-1.localhost`);
    assert.deepEqual(rc.http, { method: "GET", path: "/some/path", protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "url-test" });
    assert.equal(rc.requestId, r.headers.get("x-amzn-requestid"));
    assert.equal(rc.stage, "$default");
    assert.match(String(rc.time), /^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    assert.ok(Math.abs(Number(rc.timeEpoch) - Date.now()) < 60_000);
  });

  test("the reported FunctionUrl form, routed by its Host header; bodies text or base64 by content type", async () => {
    const host = new URL(echoUrl).host;
    const text = await hostRequest(t.port, host, { method: "POST", path: "/post?q=1", headers: { "content-type": "application/json" }, body: '{"n":1}' });
    assert.equal(text.status, 201);
    const e1 = json(text.body);
    assert.equal(e1.rawPath, "/post");
    assert.equal(e1.body, '{"n":1}');
    assert.equal(e1.isBase64Encoded, false);
    assert.equal((e1.headers as Record<string, string>).host, host);
    const bin = await hostRequest(t.port, host, { method: "PUT", path: "/", headers: { "content-type": "application/octet-stream" }, body: Buffer.from([0, 1, 2, 255]) });
    const e2 = json(bin.body);
    assert.equal(e2.isBase64Encoded, true);
    assert.equal(e2.body, "AAEC/w==");
    assert.equal(e2.requestContext.http.method, "PUT");
  });

  test("result shortcuts, base64 responses, and 502 for a function error", async () => {
    const s = await plainFetch(t.url, `/lambda-url/${echoId}/string`);
    assert.equal(s.status, 200);
    assert.equal(s.headers.get("content-type"), "application/json");
    assert.equal(s.text, "plain string");
    const o = await plainFetch(t.url, `/lambda-url/${echoId}/object`);
    assert.equal(o.status, 200);
    assert.deepEqual(o.json(), { hello: "object" });
    const b = await fetch(`${t.url}/lambda-url/${echoId}/binary`);
    assert.deepEqual([...Buffer.from(await b.arrayBuffer())], [0, 1, 2, 255]);
    const f = await plainFetch(t.url, `/lambda-url/${echoId}/fail`);
    assert.equal(f.status, 502);
    assert.equal(f.message, "Internal Server Error");
  });

  test("URL calls go through the same counting as Invoke: over the account's concurrency, 429", async () => {
    const results = await Promise.all([plainFetch(t.url, `/lambda-url/${echoId}/slow`), new Promise((r) => setTimeout(r, 300)).then(() => plainFetch(t.url, `/lambda-url/${echoId}/string`))]);
    assert.deepEqual(results.map((r) => r.status), [200, 429]);
    assert.equal(results[1]!.errorType, "TooManyRequestsException");
  });

  test("AuthType AWS_IAM: unsigned 403, signed by the owner accepted (both forms), other accounts and bad signatures refused", async () => {
    const updated = await c.send(new UpdateFunctionUrlConfigCommand({ FunctionName: "echo", AuthType: "AWS_IAM" }));
    assert.equal(updated.AuthType, "AWS_IAM");
    assert.equal(updated.FunctionUrl, echoUrl, "the URL never changes");
    const unsigned = await plainFetch(t.url, `/lambda-url/${echoId}/x`);
    assert.equal(unsigned.status, 403);
    assert.equal(unsigned.errorType, "AccessDeniedException");
    assert.equal(unsigned.message, "Forbidden");

    const signed = await signedFetch(t.url, { method: "GET", path: `/lambda-url/${echoId}/x?k=v` });
    assert.equal(signed.status, 201, signed.text);
    const iam = (json(Buffer.from(signed.text)).requestContext.authorizer as { iam: Record<string, unknown> }).iam;
    assert.equal(iam.accountId, "000000000000");
    assert.equal(iam.accessKey, ROOT_KEY.accessKeyId);
    assert.equal(json(Buffer.from(signed.text)).requestContext.accountId, "000000000000");

    const hostForm = await signedHostRequest(t.port, new URL(echoUrl).host, "/signed", ROOT_KEY);
    assert.equal(hostForm.status, 201, hostForm.body.toString());
    assert.equal(json(hostForm.body).rawPath, "/signed");

    const b = await createAccount(t.url, "url-b");
    const other = await signedFetch(t.url, { method: "GET", path: `/lambda-url/${echoId}/x`, keys: keysOf(b) });
    assert.equal(other.status, 403);
    assert.equal(other.message, "Forbidden");
    const wrongSecret = await signedFetch(t.url, { method: "GET", path: `/lambda-url/${echoId}/x`, keys: { accessKeyId: ROOT_KEY.accessKeyId, secretAccessKey: "wrong".repeat(8) } });
    assert.equal(wrongSecret.status, 403);
    assert.equal(wrongSecret.errorType, "InvalidSignatureException");
    await c.send(new UpdateFunctionUrlConfigCommand({ FunctionName: "echo", AuthType: "NONE" }));
  });

  test("CORS: preflights answered without invoking; allowed origins get the URL's headers, replacing the function's", async () => {
    await c.send(
      new UpdateFunctionUrlConfigCommand({
        FunctionName: "echo",
        Cors: { AllowOrigins: ["https://app.example"], AllowMethods: ["GET", "POST"], AllowHeaders: ["content-type"], ExposeHeaders: ["x-echo"], MaxAge: 300 },
      }),
    );
    const pre = await fetch(`${t.url}/lambda-url/${echoId}/`, { method: "OPTIONS", headers: { origin: "https://app.example", "access-control-request-method": "POST" } });
    assert.equal(pre.status, 200, "the function (which answers 418 to OPTIONS) did not run");
    assert.equal(await pre.text(), "");
    assert.equal(pre.headers.get("access-control-allow-origin"), "https://app.example");
    assert.equal(pre.headers.get("access-control-allow-methods"), "GET,POST");
    assert.equal(pre.headers.get("access-control-allow-headers"), "content-type");
    assert.equal(pre.headers.get("access-control-max-age"), "300");
    const denied = await fetch(`${t.url}/lambda-url/${echoId}/`, { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "POST" } });
    assert.equal(denied.status, 200);
    assert.equal(denied.headers.get("access-control-allow-origin"), null);

    const get = await fetch(`${t.url}/lambda-url/${echoId}/`, { headers: { origin: "https://app.example" } });
    assert.equal(get.status, 201);
    assert.equal(get.headers.get("access-control-allow-origin"), "https://app.example");
    assert.equal(get.headers.get("access-control-expose-headers"), "x-echo");
    const noOrigin = await fetch(`${t.url}/lambda-url/${echoId}/`);
    assert.equal(noOrigin.headers.get("access-control-allow-origin"), null, "the function's own CORS header is replaced");

    const got = await c.send(new GetFunctionUrlConfigCommand({ FunctionName: "echo" }));
    assert.deepEqual(got.Cors, { AllowOrigins: ["https://app.example"], AllowMethods: ["GET", "POST"], AllowHeaders: ["content-type"], ExposeHeaders: ["x-echo"], MaxAge: 300 });
  });

  test("the AWS CLI: create-function-url-config and get-function-url-config", async () => {
    await t.deploy("cli-url", "nodejs20.x", "index.handler", { "index.js": "exports.handler = async (e) => 'cli ' + e.rawPath;" });
    const r = await t.aws(["lambda", "create-function-url-config", "--function-name", "cli-url", "--auth-type", "NONE", "--cors", "AllowOrigins=*,AllowMethods=GET"]);
    assert.equal(r.code, 0, r.stderr);
    const created = JSON.parse(r.stdout) as { FunctionUrl: string; FunctionArn: string; AuthType: string; Cors: unknown };
    assert.equal(created.FunctionArn, ARN("cli-url"));
    assert.deepEqual(created.Cors, { AllowOrigins: ["*"], AllowMethods: ["GET"] });
    const got = await t.aws(["lambda", "get-function-url-config", "--function-name", "cli-url"]);
    assert.equal(got.code, 0, got.stderr);
    assert.equal((JSON.parse(got.stdout) as { FunctionUrl: string }).FunctionUrl, created.FunctionUrl);
    const id = new URL(created.FunctionUrl).hostname.split(".")[0]!;
    const call = await plainFetch(t.url, `/lambda-url/${id}/from-cli`);
    assert.equal(call.text, "cli /from-cli");
    const dup = await t.aws(["lambda", "create-function-url-config", "--function-name", "cli-url", "--auth-type", "NONE"]);
    assert.notEqual(dup.code, 0);
    assert.match(dup.stderr, /\(ResourceConflictException\) when calling the CreateFunctionUrlConfig operation: Failed to create function url config for \[functionArn = arn:aws:lambda:us-east-1:000000000000:function:cli-url\]\. Error message: {2}FunctionUrlConfig exists for this Lambda function/);
  });

  test("bad input: AWS's exception, status and message, and nothing changed", async () => {
    const none = "Function does not exist";
    const missing = "The resource you requested does not exist.";
    await rejectsAws(c.send(new CreateFunctionUrlConfigCommand({ FunctionName: "echo", AuthType: "NONE" })), {
      name: "ResourceConflictException",
      status: 409,
      message: `Failed to create function url config for [functionArn = ${ARN("echo")}]. Error message:  FunctionUrlConfig exists for this Lambda function`,
    });
    await rejectsAws(c.send(new CreateFunctionUrlConfigCommand({ FunctionName: "nope", AuthType: "NONE" })), { name: "ResourceNotFoundException", status: 404, message: none });
    await rejectsAws(c.send(new CreateFunctionUrlConfigCommand({ FunctionName: "echo", Qualifier: "1", AuthType: "NONE" })), {
      name: "ValidationException",
      status: 400,
      message: "1 validation error detected: Value '1' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: (^\\$LATEST$)|((?!^[0-9]+$)([a-zA-Z0-9-_]+))",
    });
    await rejectsAws(c.send(new CreateFunctionUrlConfigCommand({ FunctionName: "echo", Qualifier: "$LATEST", AuthType: "NONE" })), {
      name: "ValidationException",
      status: 400,
      message: "1 validation error detected: Value '$LATEST' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: ((?!^\\d+$)^[0-9a-zA-Z-_]+$)",
    });
    await rejectsAws(c.send(new CreateFunctionUrlConfigCommand({ FunctionName: "echo", Qualifier: "live", AuthType: "NONE" })), { name: "ResourceNotFoundException", status: 404, message: none });
    await rejectsAws(c.send(new CreateFunctionUrlConfigCommand({ FunctionName: "echo:live", Qualifier: "prod", AuthType: "NONE" })), {
      name: "InvalidParameterValueException",
      status: 400,
      message: "The derived qualifier from the function name does not match the specified qualifier.",
    });
    await rejectsAws(c.send(new CreateFunctionUrlConfigCommand({ FunctionName: "cli-url", AuthType: "OPEN" as "NONE" })), {
      name: "ValidationException",
      status: 400,
      message: "1 validation error detected: Value 'OPEN' at 'authType' failed to satisfy constraint: Member must satisfy enum value set: [NONE, AWS_IAM]",
    });
    await rejectsAws(c.send(new CreateFunctionUrlConfigCommand({ FunctionName: "cli-url", AuthType: undefined as unknown as "NONE" })), {
      name: "ValidationException",
      status: 400,
      message: "1 validation error detected: Value null at 'authType' failed to satisfy constraint: Member must not be null",
    });
    await rejectsAws(c.send(new GetFunctionUrlConfigCommand({ FunctionName: "nope" })), { name: "ResourceNotFoundException", status: 404, message: missing });
    await rejectsAws(c.send(new GetFunctionUrlConfigCommand({ FunctionName: "echo", Qualifier: "2" })), { name: "ValidationException", status: 400 });
    await rejectsAws(c.send(new UpdateFunctionUrlConfigCommand({ FunctionName: "nope", AuthType: "NONE" })), { name: "ResourceNotFoundException", status: 404, message: none });
    await rejectsAws(c.send(new DeleteFunctionUrlConfigCommand({ FunctionName: "nope" })), { name: "ResourceNotFoundException", status: 404, message: missing });
    await rejectsAws(c.send(new ListFunctionUrlConfigsCommand({ FunctionName: "nope" })), { name: "ResourceNotFoundException", status: 404, message: none });
    await rejectsAws(c.send(new ListFunctionUrlConfigsCommand({ FunctionName: "echo", MaxItems: 51 })), { name: "ValidationException", status: 400, message: /Member must have value less than or equal to 50$/ });

    const before = await c.send(new GetFunctionUrlConfigCommand({ FunctionName: "echo" }));
    await rejectsAws(c.send(new UpdateFunctionUrlConfigCommand({ FunctionName: "echo", AuthType: "AWS_IAM", Cors: { MaxAge: 86_401 } })), {
      name: "ValidationException",
      status: 400,
      message: "1 validation error detected: Value '86401' at 'cors.maxAge' failed to satisfy constraint: Member must have value less than or equal to 86400",
    });
    await rejectsAws(c.send(new UpdateFunctionUrlConfigCommand({ FunctionName: "echo", AuthType: "BOGUS" as "NONE" })), { name: "ValidationException", status: 400 });
    await rejectsAws(c.send(new UpdateFunctionUrlConfigCommand({ FunctionName: "echo", InvokeMode: "RESPONSE_STREAM" })), { name: "InvalidParameterValueException", status: 400 });
    const after = await c.send(new GetFunctionUrlConfigCommand({ FunctionName: "echo" }));
    assert.equal(after.AuthType, before.AuthType);
    assert.deepEqual(after.Cors, before.Cors);
    assert.equal(after.LastModifiedTime, before.LastModifiedTime, "refused updates change nothing");
  });

  test("DeleteFunctionUrlConfig: 204, the URL stops answering (403 as AWS), and deleting a function removes its URL", async () => {
    const del = await c.send(new DeleteFunctionUrlConfigCommand({ FunctionName: "echo" }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    await rejectsAws(c.send(new GetFunctionUrlConfigCommand({ FunctionName: "echo" })), { name: "ResourceNotFoundException", status: 404, message: "The resource you requested does not exist." });
    const gone = await plainFetch(t.url, `/lambda-url/${echoId}/`);
    assert.equal(gone.status, 403);
    assert.equal((await c.send(new ListFunctionUrlConfigsCommand({ FunctionName: "echo" }))).FunctionUrlConfigs?.length, 0);

    const cli = await c.send(new GetFunctionUrlConfigCommand({ FunctionName: "cli-url" }));
    const id = new URL(cli.FunctionUrl!).hostname.split(".")[0]!;
    await c.send(new DeleteFunctionCommand({ FunctionName: "cli-url" }));
    for (let i = 0; i < 50 && (await plainFetch(t.url, `/lambda-url/${id}/`)).status !== 403; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal((await plainFetch(t.url, `/lambda-url/${id}/`)).status, 403);
  });
});
