import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { NatsConnection } from "@nats-io/transport-node";
import { ScalingThrottledError, type EnvironmentEntry, type WorkerFleet } from "../../assignment/index.js";
import { systemClock, type Logger } from "../../base/index.js";
import type { WorkerLoad } from "../../placement/index.js";
import { startNats, type NatsCluster } from "../../../test/support/nats.js";
import { partitionOfConfig } from "./partition.js";
import { readPartitionLeaders, startAssignmentNode, type AssignmentNode } from "./node.js";
import { RemoteAssignment } from "./remote.js";

const quiet: Logger = process.env.KILN_TEST_LOG ? { debug: (m, f) => console.log("D", m, f), info: (m, f) => console.log("I", m, f), warn: (m, f) => console.log("W", m, f), error: (m, f) => console.log("E", m, f) } : { debug() {}, info() {}, warn() {}, error() {} };
type Spec = { name: string };

/** Workers as assignment sees them: created/destroyed environments, free memory; `hold` delays creation. */
class FakeFleet implements WorkerFleet<Spec> {
  readonly live = new Map<string, { workerId: string; configKey?: string }>();
  readonly created: string[] = [];
  readonly destroyed: string[] = [];
  hold: Promise<void> | undefined;
  constructor(private readonly workers: string[]) {}
  loads(): WorkerLoad[] {
    return this.workers.map((id) => {
      const l: WorkerLoad = { id, state: "active", freeMemoryMB: 100_000, totalMemoryMB: 100_000, runningSandboxes: 0, cpu: 0, sandboxesOf: () => 0, sandboxesOfAccount: () => 0 };
      return l;
    });
  }
  async createEnvironment(workerId: string, id: string): Promise<void> {
    this.created.push(id);
    this.live.set(id, { workerId });
    if (this.hold) await this.hold;
    else await new Promise((r) => setTimeout(r, 10));
  }
  async destroyEnvironment(_workerId: string, id: string): Promise<void> {
    this.destroyed.push(id);
    this.live.delete(id);
  }
}

let nats: NatsCluster;
const nodes: AssignmentNode[] = [];
const clients: RemoteAssignment<Spec>[] = [];
before(async () => {
  nats = await startNats(1);
});
after(async () => {
  for (const c of clients) c.close();
  await Promise.all(nodes.map((n) => n.close().catch(() => undefined)));
  await nats.close();
});

async function node(nc: NatsConnection, nodeId: string, fleet: FakeFleet, partitions: number, leaseMs?: number): Promise<AssignmentNode> {
  const n = await startAssignmentNode<Spec>({ nc, nodeId, partitions, replicas: 1, fleet, clock: systemClock, keepAliveMs: 600_000, log: quiet, ...(leaseMs ? { leaseMs } : {}) });
  nodes.push(n);
  return n;
}
function client(nc: NatsConnection, partitions: number): RemoteAssignment<Spec> {
  const c = new RemoteAssignment<Spec>({ nc, partitions, log: quiet, statusRefreshMs: 200 });
  clients.push(c);
  return c;
}
async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<number> {
  const t0 = Date.now();
  while (!(await ok())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return Date.now() - t0;
}
const allLed = (ns: AssignmentNode[], partitions: number) => Array.from({ length: partitions }, (_, p) => ns.filter((n) => n.isLeader(p)).length === 1).every(Boolean);
/** A function name whose configurations hash to partition `p`. */
function fnOn(p: number, partitions: number, tag: string): string {
  for (let i = 0; ; i++) if (partitionOfConfig(`111/${tag}${i}/$LATEST/x`, partitions) === p) return `111/${tag}${i}/$LATEST/x`;
}

test("election: one leader per partition; leadership moves on close and when the leader's connection dies", async () => {
  const P = 4;
  const fleet = new FakeFleet(["w1"]);
  const ncA = await nats.connect();
  const a = await node(ncA, "elect-a", fleet, P, 600);
  await until("a leads all", () => allLed([a], P));
  const b = await node(await nats.connect(), "elect-b", fleet, P, 600);
  const c = await node(await nats.connect(), "elect-c", fleet, P, 600);
  await new Promise((r) => setTimeout(r, 1000));
  for (let p = 0; p < P; p++) {
    assert.ok(a.isLeader(p) && !b.isLeader(p) && !c.isLeader(p), `partition ${p} stays with its live leader`);
    assert.equal(b.leaders().get(p), "elect-a");
  }
  const status = await readPartitionLeaders(ncA);
  assert.deepEqual(status.map((s) => [s.partition, s.nodeId]), [0, 1, 2, 3].map((p) => [p, "elect-a"]));

  await a.close();
  await until("b and c take over after a closes", () => allLed([b, c], P), 3000);
  const holder = b.isLeader(0) ? b : c;
  const other = holder === b ? c : b;
  await holder.close();
  await until("the other leads everything", () => allLed([other], P), 3000);
  await other.close();
});

test("connection death: a leader whose broker connection dies loses every partition to a follower", async () => {
  const P = 2;
  const fleet = new FakeFleet(["w1"]);
  const ncA = await nats.connect();
  const a = await node(ncA, "conn-a", fleet, P, 600);
  await until("a leads", () => allLed([a], P));
  const b = await node(await nats.connect(), "conn-b", fleet, P, 600);
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(!b.isLeader(0) && !b.isLeader(1));
  await ncA.close();
  const ms = await until("b leads all", () => allLed([b], P), 5000);
  assert.ok(ms < 5000);
  await until("a noticed it lost its lease", () => !a.isLeader(0) && !a.isLeader(1), 3000);
  await b.close();
  await a.close();
});

const byId = (t: EnvironmentEntry[]) => Object.fromEntries(t.map((e) => [e.id, { state: e.state, workerId: e.workerId, configKey: e.configKey, provisioned: e.provisioned ?? false }]));

test("journal replay and takeover (default 3 s lease): the follower holds the leader's table, reuses warm environments within 5 s, drops half-created ones", async () => {
  const P = 2;
  const fleet = new FakeFleet(["w1", "w2"]);
  const ncA = await nats.connect();
  const a = await node(ncA, "take-a", fleet, P);
  await until("a leads", () => allLed([a], P));
  const b = await node(await nats.connect(), "take-b", fleet, P);
  const r = client(await nats.connect(), P);
  const f = fnOn(0, P, "warm");
  const spec = () => ({ name: "warm" });

  const cold = await r.acquire(f, 128, spec);
  assert.equal(cold.cold, true);
  const busy = await r.acquire(f, 128, spec);
  assert.notEqual(busy.environmentId, cold.environmentId);
  r.release(cold, true);
  // A cold start the leader never finishes: it dies while the worker creates it.
  let unblock!: () => void;
  fleet.hold = new Promise<void>((res) => (unblock = res));
  const halfCreated = r.acquire(fnOn(0, P, "half"), 128, () => ({ name: "half" })).catch((e: unknown) => e);
  await until("the half-created environment is journaled", () => b.tableOf(0).some((e) => e.state === "initializing"));
  await until("b's replica equals a's table", () => JSON.stringify(byId(b.tableOf(0))) === JSON.stringify(byId(a.tableOf(0))));
  assert.equal(b.tableOf(0).find((e) => e.id === cold.environmentId)?.state, "idle");
  assert.equal(b.tableOf(0).find((e) => e.id === busy.environmentId)?.state, "busy");
  const initializing = b.tableOf(0).find((e) => e.state === "initializing")!;

  // The leader dies: no renewals, no hand-over.
  const t0 = Date.now();
  await ncA.close();
  fleet.hold = undefined;
  unblock();
  const again = await r.acquire(f, 128, () => assert.fail("a warm environment exists"), () => false);
  const tookMs = Date.now() - t0;
  assert.ok(b.isLeader(0));
  assert.ok(tookMs < 5000, `took over in ${tookMs} ms`);
  assert.equal(again.cold, false);
  assert.equal(again.environmentId, cold.environmentId);
  assert.ok(fleet.destroyed.includes(initializing.id), "the dead leader's initializing environment is destroyed");
  assert.ok(!b.tableOf(0).some((e) => e.id === initializing.id));
  // The frontend waiting on that cold start noticed the new term and started over there.
  const restarted = (await halfCreated) as { environmentId: string; cold: boolean };
  assert.equal(restarted.cold, true);
  assert.notEqual(restarted.environmentId, initializing.id);
  assert.ok(Date.now() - t0 < 8000);
  assert.equal(b.tableOf(0).find((e) => e.id === restarted.environmentId)?.state, "busy");

  // The busy one stays busy until its frontend releases it to the new leader; then it is reused.
  await assert.rejects(r.acquire(f, 128, spec, () => false), ScalingThrottledError);
  r.release(busy, true);
  r.release(busy, true); // idempotent
  r.release({ ...busy, environmentId: "unknown" }, true); // ignored
  await until("released to the new leader", () => b.tableOf(0).find((e) => e.id === busy.environmentId)?.state === "idle");
  const reused = await r.acquire(f, 128, spec, () => false);
  assert.equal(reused.environmentId, busy.environmentId);
  r.release(reused, true);
  r.release(again, true);
  await b.close();
  await a.close();
});

test("RemoteAssignment across nodes: acquire/release/drain/provisioned from two clients, leadership moving between nodes", async () => {
  const P = 2;
  const fleet = new FakeFleet(["w1"]);
  const a = await node(await nats.connect(), "rem-a", fleet, P);
  await until("a leads", () => allLed([a], P));
  const b = await node(await nats.connect(), "rem-b", fleet, P);
  // Hand partition 1 to b: a closes and comes back as a follower.
  await a.close();
  await until("b leads all", () => allLed([b], P));
  const a2 = await node(await nats.connect(), "rem-a2", fleet, P);
  assert.ok(!a2.isLeader(0) && !a2.isLeader(1));
  const r1 = client(await nats.connect(), P);
  const r2 = client(await nats.connect(), P);
  const f0 = fnOn(0, P, "rf");
  const f1 = fnOn(1, P, "rg");

  const l0 = await r1.acquire(f0, 128, () => ({ name: "f0" }));
  const l1 = await r2.acquire(f1, 128, () => ({ name: "f1" }));
  assert.ok(l0.cold && l1.cold);
  r1.release(l0, true);
  r2.release(l1, true);
  await until("released", () => b.tableOf(0).some((e) => e.state === "idle") && b.tableOf(1).some((e) => e.state === "idle"));
  const w = await r2.acquire(f0, 128, () => ({ name: "f0" }), () => false);
  assert.deepEqual([w.environmentId, w.cold], [l0.environmentId, false]);
  r2.release(w, true);

  // Drain by function prefix: the idle environment is destroyed; the next acquire is cold.
  await until("released again", () => b.tableOf(0).find((e) => e.id === l0.environmentId)?.state === "idle");
  r1.drain({ prefix: f0.split("/").slice(0, 2).join("/") + "/" });
  await until("drained", () => fleet.destroyed.includes(l0.environmentId));
  await assert.rejects(r1.acquire(f0, 128, () => ({ name: "f0" }), () => false), ScalingThrottledError);

  // Provisioned concurrency: the leader creates the environments; the client's cache reports them.
  assert.deepEqual(r1.provisionedStatus(f1), { target: 0, allocated: 0, status: "READY" });
  r1.setProvisioned(f1, { count: 2, memoryMB: 128, spec: () => ({ name: "f1" }) });
  assert.equal(r1.provisionedStatus(f1).status, "IN_PROGRESS");
  await until("provisioned ready", () => r1.provisionedStatus(f1).status === "READY" && r1.provisionedStatus(f1).allocated === 2);
  // The target is journaled: a new leader keeps it.
  await until("a2 replayed the target", () => a2.tableOf(1).filter((e) => e.provisioned).length === 2);
  await b.close();
  await until("a2 leads all", () => allLed([a2], P));
  const created = fleet.created.length;
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(fleet.created.length, created, "the new leader does not recreate provisioned environments it replayed");
  await until("still ready under the new leader", () => r1.provisionedStatus(f1).allocated === 2);
  assert.equal(a2.leaderOf(1)!.service.provisionedKeys().includes(f1), true);
  r1.setProvisioned(f1, undefined);
  await until("target removed", () => a2.leaderOf(1)!.service.provisionedKeys().length === 0);
  await a2.close();
});

test("no double hand-out: concurrent warm acquires from two clients get distinct environments", async () => {
  const P = 1;
  const fleet = new FakeFleet(["w1"]);
  const a = await node(await nats.connect(), "dup-a", fleet, P);
  const b = await node(await nats.connect(), "dup-b", fleet, P);
  await until("one leader", () => allLed([a, b], P));
  const r1 = client(await nats.connect(), P);
  const r2 = client(await nats.connect(), P);
  const f = "111/dup/$LATEST/x";
  const leases = await Promise.all([1, 2, 3].map(() => r1.acquire(f, 128, () => ({ name: "dup" }))));
  for (const l of leases) r1.release(l, true);
  const leader = a.isLeader(0) ? a : b;
  await until("3 idle", () => leader.tableOf(0).filter((e) => e.state === "idle" && e.configKey === f).length === 3);
  const results = await Promise.allSettled(
    Array.from({ length: 12 }, (_, i) => (i % 2 ? r1 : r2).acquire(f, 128, () => assert.fail("warm only"), () => false)),
  );
  const got = results.filter((x) => x.status === "fulfilled").map((x) => (x as PromiseFulfilledResult<{ environmentId: string }>).value.environmentId);
  assert.equal(got.length, 3);
  assert.equal(new Set(got).size, 3);
  assert.deepEqual(new Set(got), new Set(leases.map((l) => l.environmentId)));
  for (const x of results) if (x.status === "rejected") assert.ok(x.reason instanceof ScalingThrottledError);
  await a.close();
  await b.close();
});
