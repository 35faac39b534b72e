import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError, describeError, isUnreachable } from "./errors.js";
import { apiErrorFrom } from "./signed-fetch.js";
import { UsageError } from "./usage.js";

test("API errors print code, message and request id, exit 1", () => {
  const r = describeError(new ApiError("ResourceNotFoundException", "Function not found: x", 404, "req-1"), "http://h:1");
  assert.deepEqual(r, { message: "kiln: ResourceNotFoundException: Function not found: x (RequestId: req-1)", exitCode: 1 });
});

test("SDK service errors are reported the same way", () => {
  const e = Object.assign(new Error("Function already exist: f"), { name: "ResourceConflictException", $metadata: { httpStatusCode: 409, requestId: "r" } });
  assert.equal(describeError(e, undefined).message, "kiln: ResourceConflictException: Function already exist: f (RequestId: r)");
});

test("connection refused, however deeply wrapped, says how to start Kiln", () => {
  const refused = new TypeError("fetch failed", { cause: Object.assign(new Error("connect"), { code: "ECONNREFUSED" }) });
  assert.ok(isUnreachable(refused));
  assert.ok(isUnreachable(new AggregateError([Object.assign(new Error("x"), { code: "ECONNREFUSED" })])));
  assert.match(describeError(refused, "http://127.0.0.1:9900").message, /Kiln is not reachable at http:\/\/127\.0\.0\.1:9900: start it with `npm start`/);
});

test("usage errors exit 2 and point at the command's help", () => {
  const r = describeError(new UsageError("missing <function>", "invoke"), undefined);
  assert.equal(r.exitCode, 2);
  assert.match(r.message, /kiln invoke --help/);
});

test("error answers are read like the AWS SDKs read them", () => {
  const h = (o: Record<string, string>): Headers => new Headers(o);
  assert.equal(apiErrorFrom(404, h({ "x-amzn-ErrorType": "ResourceNotFoundException:http://internal.amazon.com/" }), '{"Message":"nope"}').code, "ResourceNotFoundException");
  const logs = apiErrorFrom(400, h({ "x-amzn-RequestId": "q" }), '{"__type":"com.amazonaws.logs#ResourceNotFoundException","message":"The specified log group does not exist."}');
  assert.deepEqual([logs.code, logs.message, logs.requestId], ["ResourceNotFoundException", "The specified log group does not exist.", "q"]);
  assert.equal(apiErrorFrom(502, h({}), "Bad Gateway").code, "HTTP502");
});
