/** WorkerHeartbeat + WorkerDirectory against a real nats-server: join, refresh, expiry, deregister. */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { KV } from "@nats-io/kv";
import { ManualClock } from "../../base/index.js";
import { startNats, type NatsCluster } from "../../../test/support/nats.js";
import { openWorkersBucket } from "./bucket.js";
import { WorkerDirectory, expiredWorkers } from "./directory.js";
import { WorkerHeartbeat } from "./heartbeat.js";
import type { LocalWorkerSummary } from "./local.js";
import { quietLog } from "./testkit.js";

test("expiredWorkers: strictly older than the TTL", () => {
  const heard = new Map([["a", 1000], ["b", 5000], ["c", 996]]);
  assert.deepEqual(expiredWorkers(heard, 5000, 4000), ["c"]);
  assert.deepEqual(expiredWorkers(heard, 9001, 4000).sort(), ["a", "b", "c"]);
});

const waitFor = async <T>(what: string, f: () => T | undefined | false, ms = 5000): Promise<T> => {
  const until = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe("heartbeat and directory on NATS", () => {
  let nats: NatsCluster;
  let kv: KV;
  const clock = new ManualClock(Date.now());
  const summary: LocalWorkerSummary = { state: "active", totalMemoryMB: 2048, freeMemoryMB: 1792, runningSandboxes: 2, sandboxes: { "acct/f": 2 }, busy: 1, environmentsCreated: 2 };
  const heartbeat = (id: string) =>
    new WorkerHeartbeat({ kv, source: { id, summary: () => summary }, url: `http://10.0.0.1:${id.length}`, roles: ["worker"], clock, log: quietLog, startedAt: clock.now(), leaseEndsAt: () => clock.now() + 3_600_000, intervalMs: 100, cpu: () => 0.25 });

  before(async () => {
    nats = await startNats(1);
    kv = await openWorkersBucket(await nats.connect());
  });
  after(() => nats.close());

  test("a heartbeating worker joins with its load; stopping without deregistering expires it after the TTL", async () => {
    const dir = new WorkerDirectory({ kv, clock, log: quietLog, ttlMs: 4000, sweepMs: 60_000 });
    const joins: string[] = [];
    const leaves: string[] = [];
    dir.onJoin((id) => joins.push(id));
    dir.onLeave((id) => leaves.push(id));
    await dir.start();
    const hb = heartbeat("w1");
    await hb.start();
    await waitFor("w1 to join", () => dir.get("w1"));
    assert.deepEqual(joins, ["w1"]);
    const [load] = dir.loads();
    assert.equal(load!.id, "w1");
    assert.equal(load!.state, "active");
    assert.equal(load!.totalMemoryMB, 2048);
    assert.equal(load!.freeMemoryMB, 1792);
    assert.equal(load!.runningSandboxes, 2);
    assert.equal(load!.cpu, 0.25);
    assert.equal(load!.sandboxesOf("acct/f"), 2);
    assert.equal(load!.sandboxesOf("acct/g"), 0);
    assert.equal(dir.urlOf("w1"), "http://10.0.0.1:2");
    // Beats keep it alive across several TTLs of the clock.
    for (let i = 0; i < 3; i++) {
      clock.advance(3000);
      await waitFor("a beat after the clock moved", () => (dir.get("w1")?.seenAt ?? 0) >= clock.now());
      dir.sweep();
    }
    assert.deepEqual(leaves, []);
    await hb.stop({ deregister: false }); // as if kill -9'd: the record stays in the bucket
    clock.advance(4000);
    dir.sweep();
    assert.deepEqual(leaves, [], "exactly the TTL is not yet expired");
    clock.advance(1);
    dir.sweep();
    assert.deepEqual(leaves, ["w1"]);
    assert.equal(dir.urlOf("w1"), undefined);
    assert.deepEqual(dir.loads(), []);
    dir.stop();
    await kv.delete("w1");
  });

  test("deregistering (kv.delete) is an immediate leave; a draining state is seen", async () => {
    const dir = new WorkerDirectory({ kv, clock, log: quietLog, ttlMs: 4000, sweepMs: 60_000 });
    const leaves: string[] = [];
    dir.onLeave((id) => leaves.push(id));
    await dir.start();
    const hb = heartbeat("w2");
    await hb.start();
    await waitFor("w2 to join", () => dir.get("w2"));
    summary.state = "draining";
    await hb.beat();
    await waitFor("w2 draining", () => dir.get("w2")?.state === "draining");
    summary.state = "active";
    await hb.stop();
    await waitFor("w2 to leave", () => leaves.includes("w2"));
    assert.equal(dir.get("w2"), undefined);
    dir.stop();
  });

  test("a directory started later reads live records and skips stale ones", async () => {
    const hb = heartbeat("w3");
    await hb.start();
    await kv.put("w4", JSON.stringify({ ...hb.record(), id: "w4", seenAt: clock.now() - 10_000 }));
    await kv.put("junk", "not json");
    const dir = new WorkerDirectory({ kv, clock, log: quietLog, ttlMs: 4000, sweepMs: 60_000 });
    await dir.start();
    assert.ok(dir.get("w3"), "the live worker is there at once");
    assert.equal(dir.get("w4"), undefined, "the record of a worker dead for 10 s is not");
    assert.equal(dir.get("junk"), undefined);
    await hb.stop();
    dir.stop();
  });
});
