import { test } from "node:test";
import assert from "node:assert/strict";
import { errorSummary, invocationRecord } from "./record.js";

const T = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

test("a success record carries the request, the context and the response", () => {
  const r = JSON.parse(
    invocationRecord({
      requestId: "rid",
      functionArn: "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST",
      condition: "Success",
      approximateInvokeCount: 1,
      requestPayload: Buffer.from('{"a":1}'),
      response: { payload: Buffer.from('{"ok":true}'), executedVersion: "$LATEST" },
      timestamp: T,
    }).toString(),
  );
  assert.deepEqual(r, {
    version: "1.0",
    timestamp: "2026-01-02T03:04:05.678Z",
    requestContext: { requestId: "rid", functionArn: "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST", condition: "Success", approximateInvokeCount: 1 },
    requestPayload: { a: 1 },
    responseContext: { statusCode: 200, executedVersion: "$LATEST" },
    responsePayload: { ok: true },
  });
});

test("a failure record has the function error; an expired event that never ran has no response", () => {
  const failed = JSON.parse(
    invocationRecord({
      requestId: "rid",
      functionArn: "arn",
      condition: "RetriesExhausted",
      approximateInvokeCount: 3,
      requestPayload: Buffer.from("{}"),
      response: { payload: Buffer.from('{"errorType":"Error","errorMessage":"boom"}'), executedVersion: "$LATEST", functionError: "Unhandled" },
      timestamp: T,
    }).toString(),
  );
  assert.deepEqual(failed.responseContext, { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" });
  assert.equal(failed.responsePayload.errorMessage, "boom");
  const expired = JSON.parse(invocationRecord({ requestId: "r", functionArn: "arn", condition: "EventAgeExceeded", approximateInvokeCount: 0, requestPayload: Buffer.from("[1]"), timestamp: T }).toString());
  assert.deepEqual(expired.requestPayload, [1]);
  assert.equal("responseContext" in expired, false);
  assert.equal("responsePayload" in expired, false);
});

test("non-JSON responses travel as text; error summaries are one line", () => {
  const r = JSON.parse(invocationRecord({ requestId: "r", functionArn: "a", condition: "Success", approximateInvokeCount: 1, requestPayload: Buffer.from("{}"), response: { payload: Buffer.from("plain"), executedVersion: "1" }, timestamp: T }).toString());
  assert.equal(r.responsePayload, "plain");
  assert.equal(errorSummary(Buffer.from('{"errorType":"TypeError","errorMessage":"x is undefined"}')), "TypeError: x is undefined");
  assert.equal(errorSummary(Buffer.from("oops")), "oops");
});
