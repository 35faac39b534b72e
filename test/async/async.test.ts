/**
 * Asynchronous invocations end to end: a real server with real sandboxes, the AWS SDK (and once
 * the AWS CLI) as the client. Retry delays are shortened (300 and 600 ms) and the async clock can
 * be moved forward, so retries, max event age, destinations, dead letters, throttling and fairness
 * are exercised in seconds. The kill -9 durability test is in durability.test.ts.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  GetFunctionConfigurationCommand,
  CreateAliasCommand,
  InvokeCommand,
  PublishVersionCommand,
  PutFunctionEventInvokeConfigCommand,
  UpdateFunctionConfigurationCommand,
  type LambdaClient,
} from "@aws-sdk/client-lambda";
import { runCli } from "../../src/cli/index.js";
import { ROOT_KEY, startKiln, type TestKiln } from "../support/kiln.js";
import { rejectsAws } from "../support/aws-errors.js";
import { SkewClock, asyncStats, logLines, sleep, tagged, waitFor } from "./support.js";

const CODE = {
  "index.mjs": `
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const echo = async (event, ctx) => { console.log("EVENT " + JSON.stringify({ id: ctx.awsRequestId, event })); return { echoed: event }; };
export const fail = async (event, ctx) => { console.log("ATTEMPT " + JSON.stringify({ id: ctx.awsRequestId })); throw new Error("boom " + JSON.stringify(event)); };
export const record = async (event) => { console.log("RECORD " + JSON.stringify(event)); return "noted"; };
export const slow = async (event, ctx) => { await sleep(event.ms ?? 300); console.log("DONE " + JSON.stringify({ id: ctx.awsRequestId })); return "ok"; };
export const slowfail = async (event, ctx) => { console.log("RUNNING " + JSON.stringify({ id: ctx.awsRequestId })); await sleep(event.ms ?? 1500); throw new Error("too slow"); };
`,
};

const FUNCTIONS: Array<[string, string]> = [
  ["echo", "echo"],
  ["fails", "fail"],
  ["echo-dest", "echo"],
  ["fails-dest", "fail"],
  ["on-success", "record"],
  ["on-failure", "record"],
  ["dlq", "record"],
  ["ages", "slowfail"],
  ["on-age", "record"],
  ["slow", "slow"],
  ["echo-throttle", "echo"],
  ["backlog", "slow"],
  ["quick", "echo"],
  ["versioned", "echo"],
  ["on-alias", "record"],
];

const skew = new SkewClock();
let k: TestKiln;
let c: LambdaClient;
const arn = (fn: string) => `arn:aws:lambda:us-east-1:000000000000:function:${fn}`;

const event = async (fn: string, payload: unknown): Promise<string> => {
  const r = await c.send(new InvokeCommand({ FunctionName: fn, InvocationType: "Event", Payload: Buffer.from(JSON.stringify(payload)) }));
  assert.equal(r.StatusCode, 202);
  assert.equal(r.Payload?.length ?? 0, 0);
  return r.$metadata.requestId!;
};

before(async () => {
  k = await startKiln({ accountConcurrency: 2 }, undefined, {
    async: { pollers: 3, retryDelaysMs: [300, 600], backoffBaseMs: 100, backoffMaxMs: 1000, rescanMs: 1000 },
    asyncClock: skew,
  });
  c = k.client();
  await Promise.all(FUNCTIONS.map(([name, handler]) => k.deploy(name, "nodejs20.x", `index.${handler}`, CODE)));
  await k.deploy("fails-dlq", "nodejs20.x", "index.fail", CODE, { DeadLetterConfig: { TargetArn: arn("dlq") } });
});
after(async () => k.stop());

describe("asynchronous invocations", { timeout: 120_000 }, () => {
  test("Invoke Event: 202 with the request id once stored; the function then runs once with that id; the stats count it", async () => {
    const rid = await event("echo", { hello: "world" });
    const runs = await waitFor("the event to run", async () => {
      const l = await tagged(k, "echo", "EVENT");
      return l.length > 0 ? l : undefined;
    });
    assert.deepEqual(runs.map((l) => l.body), [{ id: rid, event: { hello: "world" } }]);
    const st = await waitFor("the stats to show it", async () => {
      const s = await asyncStats(k, "echo");
      return s.Metrics.Succeeded === 1 ? s : undefined;
    });
    assert.equal(st.Metrics.AsyncEventsReceived, 1);
    assert.equal(st.Metrics.AsyncEventsDropped, 0);
    assert.equal(st.Metrics.AsyncEventAge.Count, 1);
    assert.equal(st.Queue.Depth, 0);

    // The AWS CLI's --invocation-type Event, and a function that does not exist.
    const cli = await k.aws(["lambda", "invoke", "--function-name", "echo", "--invocation-type", "Event", "--cli-binary-format", "raw-in-base64-out", "--payload", '{"cli":true}', "out.json"]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal(JSON.parse(cli.stdout).StatusCode, 202);
    await waitFor("the CLI's event to run", async () => (await tagged(k, "echo", "EVENT")).some((l) => l.body.event?.cli === true));
    await rejectsAws(c.send(new InvokeCommand({ FunctionName: "nope", InvocationType: "Event", Payload: Buffer.from("{}") })), {
      name: "ResourceNotFoundException",
      status: 404,
      message: `Function not found: ${arn("nope")}`,
    });
  });

  test("function errors are retried with the same request id, the configured number of times, the configured delays apart", async () => {
    const rid = await event("fails", { n: 1 });
    const attempts = await waitFor("three attempts", async () => {
      const l = (await tagged(k, "fails", "ATTEMPT")).filter((a) => a.body.id === rid);
      return l.length >= 3 ? l : undefined;
    });
    assert.ok(attempts[1]!.timestamp - attempts[0]!.timestamp >= 250, "first retry after ~300 ms");
    assert.ok(attempts[2]!.timestamp - attempts[1]!.timestamp >= 550, "second retry after ~600 ms");
    const st = await waitFor("the drop", async () => {
      const s = await asyncStats(k, "fails");
      return s.Dropped.RetriesExhausted === 1 ? s : undefined;
    });
    assert.equal(st.Metrics.Retries, 2);
    assert.equal(st.Metrics.FunctionErrors, 3);
    assert.deepEqual(st.RecentDrops.map((d) => [d.RequestId, d.Reason, d.Attempts]), [[rid, "RetriesExhausted", 3]]);

    await c.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: "fails", MaximumRetryAttempts: 1 }));
    const rid2 = await event("fails", { n: 2 });
    await waitFor("the second drop", async () => (await asyncStats(k, "fails")).Dropped.RetriesExhausted === 2);
    await sleep(700);
    assert.equal((await tagged(k, "fails", "ATTEMPT")).filter((a) => a.body.id === rid2).length, 2, "MaximumRetryAttempts 1: two attempts, no more");
  });

  test("destinations: OnSuccess and OnFailure functions receive Lambda's invocation record", async () => {
    await c.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: "echo-dest", DestinationConfig: { OnSuccess: { Destination: arn("on-success") } } }));
    await c.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: "fails-dest", MaximumRetryAttempts: 0, DestinationConfig: { OnFailure: { Destination: arn("on-failure") } } }));
    const ok = await event("echo-dest", { d: 1 });
    const bad = await event("fails-dest", { d: 2 });
    const [success] = await waitFor("the success record", async () => {
      const l = await tagged(k, "on-success", "RECORD");
      return l.length > 0 ? l : undefined;
    });
    const s = success!.body;
    assert.equal(s.version, "1.0");
    assert.match(s.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(s.requestContext, { requestId: ok, functionArn: `${arn("echo-dest")}:$LATEST`, condition: "Success", approximateInvokeCount: 1 });
    assert.deepEqual(s.requestPayload, { d: 1 });
    assert.deepEqual(s.responseContext, { statusCode: 200, executedVersion: "$LATEST" });
    assert.deepEqual(s.responsePayload, { echoed: { d: 1 } });
    assert.notEqual(success!.requestId, ok, "the destination runs as its own invocation");

    const [failure] = await waitFor("the failure record", async () => {
      const l = await tagged(k, "on-failure", "RECORD");
      return l.length > 0 ? l : undefined;
    });
    const f = failure!.body;
    assert.deepEqual(f.requestContext, { requestId: bad, functionArn: `${arn("fails-dest")}:$LATEST`, condition: "RetriesExhausted", approximateInvokeCount: 1 });
    assert.deepEqual(f.requestPayload, { d: 2 });
    assert.deepEqual(f.responseContext, { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" });
    assert.equal(f.responsePayload.errorType, "Error");
    assert.equal(f.responsePayload.errorMessage, 'boom {"d":2}');
    assert.equal((await asyncStats(k, "fails-dest")).Metrics.DestinationDeliveries, 1);
  });

  test("qualified events: an alias's own event invoke config applies, and the record names the alias and the version that ran", async () => {
    const v = await c.send(new PublishVersionCommand({ FunctionName: "versioned" }));
    await c.send(new CreateAliasCommand({ FunctionName: "versioned", Name: "live", FunctionVersion: v.Version! }));
    await c.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: "versioned", Qualifier: "live", DestinationConfig: { OnSuccess: { Destination: arn("on-alias") } } }));
    const r = await c.send(new InvokeCommand({ FunctionName: "versioned", Qualifier: "live", InvocationType: "Event", Payload: Buffer.from('{"via":"alias"}') }));
    assert.equal(r.StatusCode, 202);
    await event("versioned", { via: "latest" }); // $LATEST has no config: no record
    const [rec] = await waitFor("the alias's record", async () => {
      const l = await tagged(k, "on-alias", "RECORD");
      return l.length > 0 ? l : undefined;
    });
    assert.deepEqual(rec!.body.requestContext, { requestId: r.$metadata.requestId, functionArn: arn("versioned") + ":live", condition: "Success", approximateInvokeCount: 1 });
    assert.deepEqual(rec!.body.responseContext, { statusCode: 200, executedVersion: v.Version });
    await waitFor("both events", async () => (await asyncStats(k, "versioned")).Metrics.Succeeded === 2);
    await sleep(300);
    assert.equal((await tagged(k, "on-alias", "RECORD")).length, 1, "the unqualified event had no destination");
  });

  test("DeadLetterConfig naming a function: it receives the original event after the last attempt", async () => {
    const cfg = await c.send(new GetFunctionConfigurationCommand({ FunctionName: "fails-dlq" }));
    assert.deepEqual(cfg.DeadLetterConfig, { TargetArn: arn("dlq") });
    await c.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: "fails-dlq", MaximumRetryAttempts: 0 }));
    await event("fails-dlq", { letter: "for the dlq" });
    const [letter] = await waitFor("the dead letter", async () => {
      const l = await tagged(k, "dlq", "RECORD");
      return l.length > 0 ? l : undefined;
    });
    assert.deepEqual(letter!.body, { letter: "for the dlq" });
    assert.equal((await asyncStats(k, "fails-dlq")).Metrics.DeadLetterDeliveries, 1);
    await rejectsAws(c.send(new UpdateFunctionConfigurationCommand({ FunctionName: "fails-dlq", DeadLetterConfig: { TargetArn: "arn:aws:sqs:us-east-1:000000000000:q" } })), {
      name: "InvalidParameterValueException",
      status: 400,
      message: /Kiln cannot send dead letters to SQS queues yet/,
    });
  });

  test("max event age: an event that outlives MaximumEventAgeInSeconds fails with EventAgeExceeded", async () => {
    await c.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: "ages", MaximumEventAgeInSeconds: 60, DestinationConfig: { OnFailure: { Destination: arn("on-age") } } }));
    const rid = await event("ages", { ms: 1500 });
    await waitFor("the first attempt to start", async () => (await tagged(k, "ages", "RUNNING")).length === 1);
    skew.advance(61_000); // while it runs, the event becomes 61 s old
    const [rec] = await waitFor("the EventAgeExceeded record", async () => {
      const l = await tagged(k, "on-age", "RECORD");
      return l.length > 0 ? l : undefined;
    });
    assert.deepEqual(rec!.body.requestContext, { requestId: rid, functionArn: `${arn("ages")}:$LATEST`, condition: "EventAgeExceeded", approximateInvokeCount: 1 });
    const st = await asyncStats(k, "ages");
    assert.equal(st.Dropped.EventAgeExceeded, 1);
    assert.equal((await tagged(k, "ages", "RUNNING")).length, 1, "no retry after the expiry");
  });

  test("throttles: an event refused by the concurrency limit waits in the queue with backoff, then runs once", async () => {
    // The account runs 2 at a time: two slow synchronous invokes hold both slots.
    const holding = [0, 1].map(() => c.send(new InvokeCommand({ FunctionName: "slow", Payload: Buffer.from('{"ms":2000}') })));
    await sleep(300);
    const rid = await event("echo-throttle", { waited: true });
    await waitFor("a throttle", async () => (await asyncStats(k, "echo-throttle")).Metrics.Throttles >= 1);
    assert.equal((await asyncStats(k, "echo-throttle")).Queue.Depth, 1, "still queued");
    await Promise.all(holding);
    const runs = await waitFor("the event to run", async () => {
      const l = await tagged(k, "echo-throttle", "EVENT");
      return l.length > 0 ? l : undefined;
    });
    assert.deepEqual(runs.map((l) => l.body.id), [rid]);
    const st = await waitFor("the success", async () => {
      const s = await asyncStats(k, "echo-throttle");
      return s.Metrics.Succeeded === 1 ? s : undefined;
    });
    assert.equal(st.Metrics.AsyncEventsDropped, 0);
    assert.equal(st.Queue.Depth, 0);
  });

  test("fairness: one function's backlog does not hold up another function's events", async () => {
    // Warm both functions so cold starts do not decide the race.
    await Promise.all([0, 1].map(() => c.send(new InvokeCommand({ FunctionName: "backlog", Payload: Buffer.from('{"ms":0}') }))));
    await c.send(new InvokeCommand({ FunctionName: "quick", Payload: Buffer.from("{}") }));
    await Promise.all(Array.from({ length: 30 }, (_, i) => event("backlog", { ms: 300, i })));
    for (let i = 0; i < 3; i++) await event("quick", { i });
    await waitFor("the quick events", async () => (await asyncStats(k, "quick")).Metrics.Succeeded === 3, 30_000);
    const backlog = await asyncStats(k, "backlog");
    assert.ok(backlog.Queue.Depth >= 10, `quick finished while the backlog still held ${backlog.Queue.Depth} of 30 events`);
    await waitFor("the backlog to drain", async () => (await asyncStats(k, "backlog")).Queue.Depth === 0, 60_000);
    assert.equal((await logLines(k, "backlog")).filter((l) => l.text.startsWith("DONE")).length, 32);
  });

  test("kiln async-stats prints a function's queue and async metrics", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const ctx = {
      env: { KILN_HOST: "127.0.0.1", KILN_PORT: String(k.port), KILN_ROOT_ACCESS_KEY_ID: ROOT_KEY.accessKeyId, KILN_ROOT_SECRET_ACCESS_KEY: ROOT_KEY.secretAccessKey },
      cwd: k.dataDir,
      out: (t: string) => out.push(t),
      err: (t: string) => err.push(t),
      signal: new AbortController().signal,
    };
    assert.equal(await runCli(["async-stats", "fails"], ctx), 0, err.join("\n"));
    const text = out.join("\n");
    assert.match(text, /AsyncEventsReceived\s+2/);
    assert.match(text, /AsyncEventsDropped\s+2/);
    assert.match(text, /RetriesExhausted\s+2/);
    out.length = 0;
    assert.equal(await runCli(["async-stats", "fails", "--json"], ctx), 0);
    assert.equal(JSON.parse(out.join("\n")).Metrics.Retries, 3);
    assert.equal(await runCli(["async-stats", "nope"], ctx), 1);
    assert.match(err.join("\n"), /ResourceNotFoundException|Function not found/);
  });
});
