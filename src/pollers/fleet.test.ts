/** The poller fleet against the real SQLite queue, a fake invoker and a manual clock: no servers, no sleeping. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KilnError, ManualClock, createLogger } from "../base/index.js";
import { openSqliteQueue, type QueuedEvent, type SqliteAsyncQueue } from "../queue/index.js";
import { PollerFleet, type AsyncSettings } from "./fleet.js";
import type { InvocationResult } from "./invoker.js";
import { defaultAsyncOptions, type AsyncOptions } from "./options.js";

const ACCOUNT = "000000000000";
const arn = (fn: string) => `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${fn}`;
const lane = (fn: string) => `${ACCOUNT}/${fn}`;

interface Rig {
  fleet: PollerFleet;
  queue: SqliteAsyncQueue;
  clock: ManualClock;
  calls: QueuedEvent[];
  settings: Map<string, Partial<AsyncSettings> | undefined>;
  /** Runs rounds until nothing more is eligible now. */
  drain(): Promise<void>;
  send(fn: string, payload?: unknown, requestId?: string): Promise<string>;
  done(): Promise<void>;
}

let n = 0;
async function rig(behave: (e: QueuedEvent) => Promise<InvocationResult> | InvocationResult, options: Partial<AsyncOptions> = {}): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), "kiln-fleet-"));
  const queue = await openSqliteQueue(join(dir, "async.db"));
  const clock = new ManualClock();
  const calls: QueuedEvent[] = [];
  const settings = new Map<string, Partial<AsyncSettings> | undefined>();
  const fleet = new PollerFleet({
    queue,
    clock,
    region: "us-east-1",
    log: createLogger("fleet-test", "error"),
    options: { ...defaultAsyncOptions(), retryDelaysMs: [60_000, 120_000], ...options },
    invoke: async (e) => {
      calls.push(e);
      return behave(e);
    },
    settings: async (t) => {
      if (settings.has(t.functionName) && settings.get(t.functionName) === undefined) return undefined;
      return { functionArn: `${arn(t.functionName)}:$LATEST`, maximumRetryAttempts: 2, maximumEventAgeMs: 21_600_000, ...settings.get(t.functionName) };
    },
  });
  return {
    fleet,
    queue,
    clock,
    calls,
    settings,
    async drain() {
      for (;;) {
        const handed = await fleet.dispatch();
        await fleet.idle();
        if (handed === 0) return;
      }
    },
    async send(fn, payload = { n: ++n }, requestId = `req-${++n}`) {
      await fleet.accept({ requestId, accountId: ACCOUNT, functionName: fn, payload: Buffer.from(JSON.stringify(payload)) });
      return requestId;
    },
    async done() {
      await fleet.close(0);
      await queue.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const ok = (body: unknown = { ok: true }): InvocationResult => ({ kind: "success", payload: Buffer.from(JSON.stringify(body)), executedVersion: "$LATEST" });
const boom: InvocationResult = { kind: "function-error", payload: Buffer.from('{"errorType":"Error","errorMessage":"boom"}'), executedVersion: "$LATEST", functionError: "Unhandled" };
const json = (b: Buffer) => JSON.parse(b.toString());

test("success: the event runs once with its request id, is acked, and OnSuccess gets the invocation record", async () => {
  const r = await rig((e) => (e.target.functionName === "f" ? ok({ echo: json(e.payload) }) : ok()));
  r.settings.set("f", { onSuccess: arn("dest") });
  const id = await r.send("f", { a: 1 });
  await r.drain();
  assert.deepEqual(r.calls.map((c) => [c.target.functionName, c.id === id]), [
    ["f", true],
    ["dest", false],
  ]);
  const record = json(r.calls[1]!.payload);
  assert.deepEqual(record.requestContext, { requestId: id, functionArn: `${arn("f")}:$LATEST`, condition: "Success", approximateInvokeCount: 1 });
  assert.deepEqual(record.requestPayload, { a: 1 });
  assert.deepEqual(record.responsePayload, { echo: { a: 1 } });
  assert.equal(r.calls[1]!.source, "destination");
  const st = await r.fleet.stats(ACCOUNT, "f");
  assert.equal(st.queue.depth, 0);
  assert.equal(st.queue.counters.received, 1);
  assert.equal(st.queue.counters.succeeded, 1);
  assert.equal(st.queue.counters.destinationDeliveries, 1);
  assert.equal(st.age?.count, 1);
  await r.done();
});

test("function errors: retried at the configured delays with the same id, then OnFailure and the dead letter", async () => {
  const r = await rig((e) => (e.target.functionName === "f" ? boom : ok()));
  r.settings.set("f", { onFailure: arn("failures"), deadLetter: arn("dlq") });
  const id = await r.send("f", { keep: "me" });
  await r.drain();
  assert.equal(r.calls.length, 1);
  r.clock.advance(59_999);
  await r.drain();
  assert.equal(r.calls.length, 1, "not before the first delay");
  r.clock.advance(1);
  await r.drain();
  assert.equal(r.calls.length, 2);
  r.clock.advance(120_000);
  await r.drain();
  const ran = r.calls.filter((c) => c.target.functionName === "f");
  assert.deepEqual(ran.map((c) => c.id), [id, id, id]);
  assert.deepEqual(ran.map((c) => c.attempts), [0, 1, 2]);
  const failure = r.calls.find((c) => c.target.functionName === "failures")!;
  const record = json(failure.payload);
  assert.equal(record.requestContext.condition, "RetriesExhausted");
  assert.equal(record.requestContext.approximateInvokeCount, 3);
  assert.deepEqual(record.responseContext, { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" });
  assert.equal(record.responsePayload.errorMessage, "boom");
  const letter = r.calls.find((c) => c.target.functionName === "dlq")!;
  assert.deepEqual(json(letter.payload), { keep: "me" });
  assert.equal(letter.source, "dead-letter");
  const st = await r.fleet.stats(ACCOUNT, "f");
  assert.deepEqual(
    { retries: st.queue.counters.retries, functionErrors: st.queue.counters.functionErrors, dropped: st.queue.counters.dropped, exhausted: st.queue.counters.droppedRetriesExhausted },
    { retries: 2, functionErrors: 3, dropped: 1, exhausted: 1 },
  );
  assert.deepEqual(st.queue.recentDrops.map((d) => [d.id, d.reason, d.attempts]), [[id, "RetriesExhausted", 3]]);
  await r.done();
});

test("max event age: an event too old fails with EventAgeExceeded without running", async () => {
  const r = await rig(() => boom);
  r.settings.set("f", { maximumEventAgeMs: 60_000, onFailure: arn("failures") });
  await r.send("f");
  await r.drain(); // runs once, fails, retry parked at +60 s
  r.clock.advance(60_000);
  await r.drain();
  assert.deepEqual(r.calls.map((c) => c.target.functionName), ["f", "failures"]);
  const record = json(r.calls[1]!.payload);
  assert.equal(record.requestContext.condition, "EventAgeExceeded");
  assert.equal(record.requestContext.approximateInvokeCount, 1);
  assert.equal((await r.fleet.stats(ACCOUNT, "f")).queue.counters.droppedEventAgeExceeded, 1);
  await r.done();
});

test("throttles: the event waits with backoff and runs once the function has room; other functions keep flowing", async () => {
  let room = false;
  const r = await rig((e) => (e.target.functionName === "busy" && !room ? { kind: "throttled", error: "TooManyRequestsException: Rate Exceeded.", reason: "ReservedFunctionConcurrentInvocationLimitExceeded" } : ok()), {
    backoffBaseMs: 1000,
  });
  await r.send("busy");
  await r.send("calm");
  await r.send("calm");
  await r.drain();
  const calls = () => r.calls.map((c) => c.target.functionName);
  assert.deepEqual(calls().filter((f) => f === "calm").length, 2, "the other lane is not held up");
  assert.equal(calls().filter((f) => f === "busy").length, 1);
  const st = await r.fleet.stats(ACCOUNT, "busy");
  assert.equal(st.queue.depth, 1);
  assert.equal(st.queue.counters.throttles, 1);
  assert.ok(st.pausedUntil !== undefined);
  room = true;
  r.clock.advance(1000);
  await r.drain();
  assert.equal(calls().filter((f) => f === "busy").length, 2);
  const after = await r.fleet.stats(ACCOUNT, "busy");
  assert.equal(after.queue.depth, 0);
  assert.equal(after.queue.counters.succeeded, 1);
  await r.done();
});

test("a deleted function drops its events; a poller that crashed mid-invoke is retried as a platform error", async () => {
  let crash = true;
  const r = await rig((e) => {
    if (e.target.functionName === "flaky" && crash) {
      crash = false;
      throw new Error("poller crashed");
    }
    return ok();
  });
  r.settings.set("deleted", undefined);
  await r.send("deleted");
  await r.send("flaky");
  await r.drain();
  const gone = await r.fleet.stats(ACCOUNT, "deleted");
  assert.equal(gone.queue.counters.droppedFunctionNotFound, 1);
  assert.deepEqual(r.calls.map((c) => c.target.functionName), ["flaky"], "nothing ran for the deleted function");
  r.clock.advance(1000);
  await r.drain();
  const flaky = await r.fleet.stats(ACCOUNT, "flaky");
  assert.equal(flaky.queue.counters.platformErrors, 1);
  assert.equal(flaky.queue.counters.succeeded, 1);
  await r.done();
});

test("an expired lease (a poller that never settled) is delivered again and counted", async () => {
  const r = await rig(() => ok(), { leaseMs: 5000 });
  await r.send("f");
  const [stuck] = await r.queue.lease(lane("f"), 1, r.clock.now(), 5000); // leased, never settled
  assert.ok(stuck);
  await r.fleet.scan();
  await r.drain();
  assert.equal(r.calls.length, 0);
  r.clock.advance(5000);
  await r.fleet.scan();
  await r.drain();
  assert.equal(r.calls.length, 1);
  assert.equal(r.calls[0]!.id, stuck.id);
  const st = await r.fleet.stats(ACCOUNT, "f");
  assert.equal(st.queue.counters.redelivered, 1);
  assert.equal(await r.queue.ack(stuck), false, "the stuck poller can no longer settle it");
  await r.done();
});

test("fairness: a long backlog in one function does not delay another's events", async () => {
  const release: Array<() => void> = [];
  const order: string[] = [];
  const r = await rig(
    (e) =>
      new Promise<InvocationResult>((resolve) => {
        order.push(e.target.functionName);
        release.push(() => resolve(ok()));
      }),
    { pollers: 2 },
  );
  for (let i = 0; i < 20; i++) await r.send("backlog");
  await r.send("other");
  // Round 1: both pollers busy; when one finishes, the next round must serve "other".
  await r.fleet.dispatch();
  await new Promise((res) => setImmediate(res));
  assert.equal(order.length, 2);
  release.shift()!();
  await new Promise((res) => setTimeout(res, 20));
  await r.fleet.dispatch();
  await new Promise((res) => setTimeout(res, 20));
  assert.ok(order.slice(0, 3).includes("other"), `order: ${order.join(",")}`);
  while (release.length > 0) {
    release.shift()!();
    await new Promise((res) => setTimeout(res, 5));
    await r.fleet.dispatch();
    await new Promise((res) => setTimeout(res, 5));
  }
  await r.fleet.idle();
  await r.done();
});

test("classifying invoke errors: throttles wait, missing functions drop, bad requests are rejected, the rest retry", async () => {
  const { classifyInvokeError } = await import("./invoker.js");
  assert.equal(classifyInvokeError(new KilnError("TooManyRequestsException", "Rate Exceeded.", { fields: { Reason: "ConcurrentInvocationLimitExceeded" } })).kind, "throttled");
  assert.equal(classifyInvokeError(new KilnError("ResourceNotFoundException", "Function not found")).kind, "gone");
  assert.equal(classifyInvokeError(new KilnError("RequestEntityTooLargeException", "too big")).kind, "rejected");
  assert.equal(classifyInvokeError(new KilnError("ResourceConflictException", "Pending")).kind, "platform-error");
  assert.equal(classifyInvokeError(new KilnError("ServiceException", "no sandbox")).kind, "platform-error");
  assert.equal(classifyInvokeError(new Error("bug")).kind, "platform-error");
});
