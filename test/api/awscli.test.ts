/**
 * End to end with Debian's AWS CLI v2 (/usr/bin/aws) against a real standalone server: the
 * round trip a newcomer types (create, wait, get, list, invoke with a log tail, update and wait,
 * account settings, logs, delete, an error). The CLI takes about a second to start, so each step
 * is one call and the steps build on each other.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { zipFiles } from "../../src/artifacts/index.js";
import { ROLE, startKiln, writeScratch, type TestKiln } from "../support/kiln.js";

const FN = "cli-fn";
const ARN = `arn:aws:lambda:us-east-1:000000000000:function:${FN}`;
const SOURCE = `
exports.handler = async (event) => {
  console.log("hello from the cli test", JSON.stringify(event));
  return { greeting: process.env.GREETING ?? "none", got: event };
};
`;

describe("AWS CLI v2 against Kiln", { timeout: 120_000 }, () => {
  let t: TestKiln;

  /** Runs `aws ...`, which must succeed; returns its parsed JSON output (or null when it prints none). */
  async function ok(args: string[]): Promise<Record<string, unknown> | null> {
    const r = await t.aws(args);
    assert.equal(r.code, 0, `aws ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
    return r.stdout.trim() === "" ? null : (JSON.parse(r.stdout) as Record<string, unknown>);
  }

  before(async () => {
    t = await startKiln();
  });

  after(async () => {
    await t?.stop();
  });

  test("create-function --zip-file fileb://, then `aws lambda wait function-active-v2`", async () => {
    const zip = writeScratch(t, "fn.zip", await zipFiles({ "index.js": SOURCE }));
    const created = await ok([
      "lambda", "create-function", "--function-name", FN, "--runtime", "nodejs20.x", "--handler", "index.handler",
      "--role", ROLE, "--zip-file", `fileb://${zip}`, "--memory-size", "256",
    ]);
    assert.equal(created?.FunctionArn, ARN);
    assert.equal(created?.State, "Pending");
    assert.equal(created?.StateReasonCode, "Creating");
    assert.equal(created?.MemorySize, 256);
    assert.equal(await ok(["lambda", "wait", "function-active-v2", "--function-name", FN]), null);
  });

  test("get-function and list-functions (GET /functions/ with a trailing slash)", async () => {
    const got = (await ok(["lambda", "get-function", "--function-name", FN])) as { Configuration: Record<string, unknown>; Code: { Location: string } };
    assert.equal(got.Configuration.State, "Active");
    assert.equal(got.Configuration.LastUpdateStatus, "Successful");
    assert.equal(got.Configuration.Runtime, "nodejs20.x");
    const download = await fetch(got.Code.Location);
    assert.equal(download.status, 200);
    assert.ok(Buffer.from(await download.arrayBuffer()).equals(readFileSync(join(t.dataDir, "fn.zip"))));

    const list = (await ok(["lambda", "list-functions"])) as { Functions: Array<{ FunctionName: string; FunctionArn: string }> };
    assert.deepEqual(
      list.Functions.map((f) => [f.FunctionName, f.FunctionArn]),
      [[FN, ARN]],
    );
  });

  test("invoke --payload --log-type Tail writes the result to out.json and returns START/END/REPORT", async () => {
    const r = (await ok([
      "lambda", "invoke", "--function-name", FN, "--cli-binary-format", "raw-in-base64-out",
      "--payload", '{"from":"aws-cli"}', "--log-type", "Tail", "out.json",
    ])) as { StatusCode: number; ExecutedVersion: string; LogResult: string; FunctionError?: string };
    assert.equal(r.StatusCode, 200);
    assert.equal(r.ExecutedVersion, "$LATEST");
    assert.equal(r.FunctionError, undefined);
    assert.deepEqual(JSON.parse(readFileSync(join(t.dataDir, "out.json"), "utf8")), { greeting: "none", got: { from: "aws-cli" } });
    const log = Buffer.from(r.LogResult, "base64").toString("utf8");
    assert.match(log, /^START RequestId: [0-9a-f-]{36} Version: \$LATEST$/m);
    assert.match(log, /\tINFO\thello from the cli test {"from":"aws-cli"}/);
    assert.match(log, /^END RequestId: [0-9a-f-]{36}$/m);
    assert.match(log, /^REPORT RequestId: [0-9a-f-]{36}\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 256 MB\tMax Memory Used: \d+ MB/m);
  });

  test("update-function-configuration, `aws lambda wait function-updated-v2`, and the next invoke sees it", async () => {
    const updated = await ok(["lambda", "update-function-configuration", "--function-name", FN, "--environment", "Variables={GREETING=hola}", "--timeout", "10"]);
    assert.equal(updated?.LastUpdateStatus, "InProgress");
    assert.equal(updated?.Timeout, 10);
    assert.equal(await ok(["lambda", "wait", "function-updated-v2", "--function-name", FN]), null);
    const r = await ok(["lambda", "invoke", "--function-name", FN, "--cli-binary-format", "raw-in-base64-out", "--payload", "{}", "out2.json"]);
    assert.equal(r?.StatusCode, 200);
    assert.deepEqual(JSON.parse(readFileSync(join(t.dataDir, "out2.json"), "utf8")), { greeting: "hola", got: {} });
  });

  test("get-account-settings counts the function and its code", async () => {
    const s = (await ok(["lambda", "get-account-settings"])) as { AccountUsage: { FunctionCount: number; TotalCodeSize: number }; AccountLimit: { ConcurrentExecutions: number } };
    assert.equal(s.AccountUsage.FunctionCount, 1);
    assert.equal(s.AccountUsage.TotalCodeSize, readFileSync(join(t.dataDir, "fn.zip")).length);
    assert.equal(s.AccountLimit.ConcurrentExecutions, 1000);
  });

  test("`aws logs filter-log-events` shows the function's console output", async () => {
    const r = (await ok(["logs", "filter-log-events", "--log-group-name", `/aws/lambda/${FN}`])) as { events: Array<{ message: string; logStreamName?: string; timestamp: number }> };
    const messages = r.events.map((e) => e.message);
    assert.equal(messages.filter((m) => m.includes("hello from the cli test")).length, 2, messages.join(""));
    assert.ok(messages.some((m) => m.startsWith("START RequestId: ")));
    assert.ok(messages.some((m) => m.startsWith("REPORT RequestId: ")));
    for (const e of r.events) assert.ok(e.timestamp > Date.now() - 10 * 60_000 && e.timestamp <= Date.now());
  });

  test("delete-function, then the CLI prints the AWS error code and exits non-zero", async () => {
    assert.equal(await ok(["lambda", "delete-function", "--function-name", FN]), null);
    const r = await t.aws(["lambda", "get-function", "--function-name", FN]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`An error occurred \\(ResourceNotFoundException\\) when calling the GetFunction operation: Function not found: ${ARN.replace(/[$.]/g, "\\$&")}`));
    const bad = await t.aws(["lambda", "create-function", "--function-name", "cli-bad", "--runtime", "ruby2.5", "--handler", "x.y", "--role", ROLE, "--zip-file", `fileb://${join(t.dataDir, "fn.zip")}`]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /An error occurred \(InvalidParameterValueException\) when calling the CreateFunction operation: .*ruby2\.5.*nodejs20\.x/);
  });
});
