import { test } from "node:test";
import assert from "node:assert/strict";
import { logTail, reportLine } from "./report.js";
import { functionEnvironment, logStreamName } from "./variables.js";

test("REPORT has Lambda's fields, billed in 1 ms steps, Init Duration only on cold starts", () => {
  assert.equal(
    reportLine("r1", { durationMs: 3.012, memoryMB: 128, maxMemoryUsedMB: 36.4 }),
    "REPORT RequestId: r1\tDuration: 3.01 ms\tBilled Duration: 4 ms\tMemory Size: 128 MB\tMax Memory Used: 36 MB\t",
  );
  assert.match(reportLine("r1", { durationMs: 0.2, memoryMB: 128, maxMemoryUsedMB: 1, initDurationMs: 110.1 }), /Billed Duration: 1 ms\t.*Init Duration: 110.10 ms\t$/);
});

test("the log tail is the last 4 KB", () => {
  const lines = Array.from({ length: 1000 }, (_, i) => `line ${i}`);
  const tail = logTail(lines);
  assert.equal(tail.length, 4096);
  assert.ok(tail.toString().endsWith("line 999\n"));
});

test("user variables cannot shadow the platform's; nothing comes from the host", () => {
  const env = functionEnvironment({
    functionName: "f",
    version: "$LATEST",
    memoryMB: 256,
    region: "eu-west-1",
    handler: "index.handler",
    runtime: "nodejs20.x",
    logGroup: "/aws/lambda/f",
    logStream: "s",
    user: { FOO: "bar", AWS_REGION: "evil" },
  });
  assert.equal(env.FOO, "bar");
  assert.equal(env.AWS_REGION, "eu-west-1");
  assert.equal(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, "256");
  assert.equal(env.NODE_EXTRA_CA_CERTS, undefined);
  assert.equal(logStreamName(Date.UTC(2026, 10, 9), "$LATEST", "abc"), "2026/11/09/[$LATEST]abc");
});
