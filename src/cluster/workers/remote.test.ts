/**
 * WorkerServer + RemoteWorkers against a real Worker (process driver, isolation "none"): create an
 * environment from a real zip over signed HTTP, invoke it, the typed errors (410, 503, lost
 * worker, refused signatures).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { systemClock } from "../../base/index.js";
import { NODE_DATE_HEADER, NODE_SIGNATURE_HEADER, signNodeRequest } from "../auth.js";
import { RemoteWorkers } from "./client.js";
import { EnvironmentGoneError, WorkerDrainingError, WorkerRequestError, WorkerUnreachableError } from "./errors.js";
import { LocalWorker } from "./local.js";
import { WorkerServer } from "./server.js";
import { quietLog, workerFixture, type WorkerFixture } from "./testkit.js";
import { freePort } from "../../../test/support/nats.js";

const SECRET = "s3cret-of-the-cluster";

describe("worker node over HTTP", () => {
  let fx: WorkerFixture;
  let local: LocalWorker;
  let server: WorkerServer;
  let url: string;
  let remote: RemoteWorkers;
  const inv = (payload: unknown, timeoutMs = 10_000) => ({
    requestId: `req-${Math.random().toString(16).slice(2)}`,
    payload: Buffer.from(JSON.stringify(payload)),
    invokedArn: "arn:aws:lambda:us-east-1:000000000001:function:echo",
    timeoutMs,
  });

  before(async () => {
    fx = await workerFixture("w1");
    local = new LocalWorker(fx.worker);
    server = new WorkerServer({ local, secret: SECRET, clock: systemClock, log: quietLog, localize: fx.localize });
    url = await server.listen(0);
    remote = new RemoteWorkers({ directory: { urlOf: (id) => (id === "w1" ? url : undefined), loads: () => [] }, secret: SECRET, clock: systemClock });
  });
  after(async () => {
    remote.close();
    await server.close(0);
    await fx.close();
  });

  test("creates an environment from the zip (paths localized on the worker) and invokes it: cold, then warm", async () => {
    await remote.createEnvironment("w1", "env-a", fx.spec());
    assert.deepEqual(fx.worker.environments().map((e) => [e.id, e.configKey]), [["env-a", "000000000001/echo"]]);
    const first = await remote.invoke("w1", "env-a", { ...inv({ n: 1 }), clientContext: '{"custom":{"k":"v"}}' });
    const body = JSON.parse(first.payload.toString()) as { echo: { n: number }; pid: number };
    assert.deepEqual(body.echo, { n: 1 });
    assert.equal(first.healthy, true);
    assert.equal(first.functionError, undefined);
    assert.ok(first.initDurationMs !== undefined && first.initDurationMs > 0, "the first invoke reports its init");
    assert.ok(first.durationMs > 0);
    assert.match(first.logTail.toString(), /START RequestId[\s\S]*handled \{"n":1\}[\s\S]*REPORT RequestId/);
    const second = await remote.invoke("w1", "env-a", inv({ n: 2 }));
    assert.equal((JSON.parse(second.payload.toString()) as { pid: number }).pid, body.pid, "same sandbox (warm)");
    assert.equal(second.initDurationMs, undefined);
  });

  test("a function error travels back as functionError Unhandled with its payload", async () => {
    const o = await remote.invoke("w1", "env-a", inv({ fail: true }));
    assert.equal(o.functionError, "Unhandled");
    assert.match(o.payload.toString(), /asked to fail/);
    assert.equal(o.healthy, true);
  });

  test("a large payload (5 MB) goes through both ways", async () => {
    const big = "x".repeat(5 * 1024 * 1024);
    const o = await remote.invoke("w1", "env-a", inv({ big }));
    assert.equal((JSON.parse(o.payload.toString()) as { echo: { big: string } }).echo.big.length, big.length);
  });

  test("an unknown or destroyed environment is 410 EnvironmentGone", async () => {
    await assert.rejects(remote.invoke("w1", "nope", inv({})), (e) => e instanceof EnvironmentGoneError && e.environmentId === "nope" && /gone/.test(e.message));
    await remote.createEnvironment("w1", "env-b", fx.spec());
    await remote.destroyEnvironment("w1", "env-b");
    await remote.destroyEnvironment("w1", "env-b"); // idempotent
    await assert.rejects(remote.invoke("w1", "env-b", inv({})), EnvironmentGoneError);
  });

  test("unsigned and forged requests are refused with a JSON error", async () => {
    const unsigned = await fetch(`${url}/v1/status`);
    assert.equal(unsigned.status, 401);
    assert.equal(((await unsigned.json()) as { code: string }).code, "MissingNodeSignature");
    const forged = new RemoteWorkers({ directory: { urlOf: () => url, loads: () => [] }, secret: "not-the-secret", clock: systemClock });
    await assert.rejects(forged.invoke("w1", "env-a", inv({})), (e) => e instanceof WorkerRequestError && e.status === 403 && e.code === "NodeSignatureMismatch");
    forged.close();
    // A signature over another body does not authorize this one.
    const path = "/v1/environments/env-a/invoke";
    const headers = signNodeRequest(SECRET, { method: "POST", path, body: Buffer.from("{}") }, Date.now());
    const swapped = await fetch(`${url}${path}`, { method: "POST", body: '{"evil":1}', headers: { ...headers, "x-kiln-request-id": "r", "x-kiln-invoked-arn": "a", "x-kiln-timeout-ms": "1000" } });
    assert.equal(swapped.status, 403);
    const stale = signNodeRequest(SECRET, { method: "GET", path: "/v1/status", body: Buffer.alloc(0) }, Date.now() - 10 * 60_000);
    const old = await fetch(`${url}/v1/status`, { headers: stale });
    assert.equal(old.status, 401);
    assert.equal(((await old.json()) as { code: string }).code, "NodeSignatureExpired");
    assert.ok(NODE_DATE_HEADER in stale && NODE_SIGNATURE_HEADER in stale);
  });

  test("GET /v1/status describes the worker", async () => {
    const s = (await remote.status("w1")) as { id: string; state: string; load: { runningSandboxes: number; sandboxes: Record<string, number>; totalMemoryMB: number; freeMemoryMB: number } };
    assert.equal(s.id, "w1");
    assert.equal(s.state, "active");
    assert.equal(s.load.runningSandboxes, 1);
    assert.deepEqual(s.load.sandboxes, { "000000000001/echo": 1 });
    assert.equal(s.load.totalMemoryMB, 4096);
    assert.equal(s.load.freeMemoryMB, 4096 - 128);
  });

  test("a worker that is not in the directory, or not listening, is a WorkerUnreachableError", async () => {
    await assert.rejects(remote.invoke("w9", "env-a", inv({})), (e) => e instanceof WorkerUnreachableError && /was lost/.test(e.message) && /retried/.test(e.message));
    const port = await freePort();
    const dead = new RemoteWorkers({ directory: { urlOf: () => `http://127.0.0.1:${port}`, loads: () => [] }, secret: SECRET, clock: systemClock });
    await assert.rejects(dead.createEnvironment("w2", "e", fx.spec()), (e) => e instanceof WorkerUnreachableError && /ECONNREFUSED/.test(e.message));
    dead.close();
  });

  test("a draining worker refuses new environments with 503 WorkerDraining but still runs its own", async () => {
    await local.drain();
    await assert.rejects(remote.createEnvironment("w1", "env-c", fx.spec()), (e) => e instanceof WorkerDrainingError && e.workerId === "w1");
    const o = await remote.invoke("w1", "env-a", inv({ n: 3 }));
    assert.equal(o.healthy, true);
  });

  test("a worker lost mid-invoke (connection cut) is a WorkerUnreachableError saying the call can be retried", async () => {
    const pending = remote.invoke("w1", "env-a", inv({ sleepMs: 1000 }));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(local.busyCount(), 1);
    await server.close(0);
    await assert.rejects(pending, (e) => e instanceof WorkerUnreachableError && /was lost/.test(e.message) && /can be retried/.test(e.message));
    // The worker itself runs the invocation to its end (nobody is left to read the answer).
    for (let i = 0; i < 200 && local.busyCount() > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(local.busyCount(), 0);
  });
});
