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
      const l = { id, state: "active" as const, freeMemoryMB: 100_000, totalMemoryMB: 100_000, runningSandboxes: 0, cpu: 0, sandboxesOf: () => 0 };
      return l as WorkerLoad;
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
