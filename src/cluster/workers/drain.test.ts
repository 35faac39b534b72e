/**
 * One real worker node (real Worker, real NATS): an environment that dies by itself is reported;
 * a drain asked over NATS lets the busy invocation finish, reaps and reports the idle ones,
 * refuses new environments, deregisters, and resolves `drained`.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { NatsConnection } from "@nats-io/transport-node";
import { systemClock } from "../../base/index.js";
import { startNats, type NatsCluster } from "../../../test/support/nats.js";
import { openWorkersBucket } from "./bucket.js";
import { RemoteWorkers } from "./client.js";
import { WorkerDirectory } from "./directory.js";
import { WorkerDrainingError } from "./errors.js";
import { ENV_DEAD_SUBJECT, drainSubject, type EnvironmentDeath } from "./events.js";
import { startWorkerNode, type WorkerNode } from "./node.js";
import { quietLog, workerFixture, type WorkerFixture } from "./testkit.js";

const SECRET = "drain-test-secret";

const waitFor = async <T>(what: string, f: () => T | undefined | false, ms = 10_000): Promise<T> => {
  const until = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe("a worker node drains", () => {
  let nats: NatsCluster;
  let nc: NatsConnection;
  let fx: WorkerFixture;
  let node: WorkerNode;
  let dir: WorkerDirectory;
  let remote: RemoteWorkers;
  const deaths: EnvironmentDeath[] = [];

  before(async () => {
    nats = await startNats(1);
    nc = await nats.connect();
    nc.subscribe(ENV_DEAD_SUBJECT, { callback: (_e, m) => void deaths.push(m.json<EnvironmentDeath>()) });
    fx = await workerFixture("wd1");
    node = await startWorkerNode({ nc: await nats.connect(), worker: fx.worker, secret: SECRET, localize: fx.localize, clock: systemClock, log: quietLog, heartbeatIntervalMs: 200, lifetimeTickMs: 100 });
    fx.onDead = (id) => node.environmentDied(id);
    dir = new WorkerDirectory({ kv: await openWorkersBucket(nc), clock: systemClock, log: quietLog });
    await dir.start();
    remote = new RemoteWorkers({ directory: dir, secret: SECRET, clock: systemClock });
  });
  after(async () => {
    remote.close();
    dir.stop();
    await node.close();
    await fx.close();
    await nats.close();
  });

  const inv = (payload: unknown) => ({ requestId: `r-${Math.random()}`, payload: Buffer.from(JSON.stringify(payload)), invokedArn: "arn:aws:lambda:us-east-1:000000000001:function:echo", timeoutMs: 10_000 });

  test("the node is in the directory, active, with its lease", async () => {
    await waitFor("the node in the directory", () => dir.get("wd1"));
    const r = dir.get("wd1")!;
    assert.equal(r.url, node.url);
    assert.equal(r.state, "active");
    assert.ok(r.leaseEndsAt - r.startedAt === 14 * 3_600_000);
  });

  test("an environment whose sandbox dies while idle is reported on kiln.env.dead and freed", async () => {
    await remote.createEnvironment("wd1", "env-crash", fx.spec());
    await remote.invoke("wd1", "env-crash", inv({ warm: true }));
    const pid = fx.worker.environments().find((e) => e.id === "env-crash")!.pid!;
    process.kill(pid, "SIGKILL");
    await waitFor("the death report", () => deaths.find((d) => d.environmentId === "env-crash"));
    assert.deepEqual(deaths, [{ workerId: "wd1", environmentId: "env-crash" }]);
    await waitFor("the environment freed", () => !fx.worker.environments().some((e) => e.id === "env-crash"));
  });

  test("drain over NATS: busy invocation finishes, idle ones are reaped and reported, then deregistered", async () => {
    deaths.length = 0;
    await remote.createEnvironment("wd1", "env-idle", fx.spec());
    await remote.createEnvironment("wd1", "env-busy", fx.spec());
    await remote.invoke("wd1", "env-idle", inv({}));
    const busy = remote.invoke("wd1", "env-busy", inv({ sleepMs: 1500, n: 7 }));
    await new Promise((r) => setTimeout(r, 300));
    const left: string[] = [];
    dir.onLeave((id) => left.push(id));
    const reply = await nc.request(drainSubject("wd1"), "", { timeout: 2000 });
    assert.equal(reply.json<{ state: string }>().state, "draining");
    await waitFor("the idle environment reaped", () => deaths.some((d) => d.environmentId === "env-idle"));
    assert.equal(deaths.some((d) => d.environmentId === "env-busy"), false, "the busy one is not reaped yet");
    await waitFor("placement sees draining", () => dir.get("wd1")?.state === "draining");
    await assert.rejects(remote.createEnvironment("wd1", "env-new", fx.spec()), WorkerDrainingError);
    const outcome = await busy;
    assert.deepEqual((JSON.parse(outcome.payload.toString()) as { echo: unknown }).echo, { sleepMs: 1500, n: 7 });
    assert.equal(outcome.functionError, undefined);
    await node.drained;
    assert.deepEqual(deaths.map((d) => d.environmentId).sort(), ["env-busy", "env-idle"]);
    assert.deepEqual(fx.worker.environments(), []);
    await waitFor("the node deregistered", () => left.includes("wd1"));
    assert.equal(node.lifetime.status().phase, "drained");
    assert.equal(node.lifetime.status().drainReason, "requested");
  });
});
