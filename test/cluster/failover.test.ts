/**
 * Kiln on many machines, on one machine: a 3-node NATS cluster, 2 frontends, 2 assignment nodes
 * and 3 workers, all real processes on loopback, started and killed by the tests. Each failure
 * test asserts that nothing accepted was lost and reports the time to recover.
 *
 * How executions are seen: the handler appends "<n> <request id>" to a file in its sandbox's
 * /tmp, which lives in the worker's data dir and survives the worker's death.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { InvokeCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import type { NatsConnection } from "@nats-io/transport-node";
import { deployNode, invokeJson, startCluster, type TestCluster } from "../support/cluster.js";
import { partitionOf, readPartitionLeaders } from "../../src/cluster/assignment/index.js";
import { readBucket } from "../../src/cluster/kv-scan.js";

const PARTITIONS = 4;

const HANDLER = `
import { appendFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
const initId = randomUUID();
const file = (process.env.TMPDIR || "/tmp") + "/ran.log";
export const handler = async (event, context) => {
  if (event.n !== undefined) appendFileSync(file, event.n + " " + context.awsRequestId + "\\n");
  if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
  return { initId };
};`;

const WORKERS = ["w1", "w2", "w3"];
let cluster: TestCluster;
let nc: NatsConnection;

/** Every "<n> <request id>" line written by any sandbox of any worker. */
function executions(): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const w of WORKERS) {
    const root = join(cluster.dataDirOf(w), "sandboxes");
    if (!existsSync(root)) continue;
    for (const id of readdirSync(root)) {
      const file = join(root, id, "tmp", "ran.log");
      if (!existsSync(file)) continue;
      for (const line of readFileSync(file, "utf8").split("\n")) {
        const m = /^(\d+) (\S+)$/.exec(line);
        if (m) out.set(Number(m[1]), [...(out.get(Number(m[1])) ?? []), m[2]!]);
      }
    }
  }
  return out;
}

const deploy = (c: LambdaClient, name: string) => deployNode(c, name, HANDLER);
const invoke = (c: LambdaClient, name: string, event: object) => invokeJson<{ initId: string }>(c, name, event);

/** Sandboxes per worker, from the workers' heartbeats. */
async function sandboxesByWorker(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const { value: w } of await readBucket<{ id: string; runningSandboxes: number }>(nc, "kiln-workers")) out.set(w.id, w.runningSandboxes);
  return out;
}

/** Environments the assignment journals still hold (latest state per environment). */
async function journaledEnvironments(): Promise<Array<{ workerId: string; state: string }>> {
  const { jetstream } = await import("@nats-io/jetstream");
  const js = jetstream(nc);
  const c = await js.consumers.get("KILN_ASSIGN", { filter_subjects: "kiln.assign.journal.>", deliver_policy: "last_per_subject" });
  const out: Array<{ workerId: string; state: string }> = [];
  const info = await c.info(true);
  let left = info.num_pending;
  if (left === 0) return out;
  for await (const m of await c.consume()) {
    const body = m.json<{ entry?: { workerId: string; state: string } | null }>();
    if (body.entry && body.entry.workerId) out.push(body.entry);
    if (--left === 0) break;
  }
  return out;
}

const until = async (what: string, ok: () => Promise<boolean>, timeoutMs = 30_000): Promise<number> => {
  const t0 = Date.now();
  while (!(await ok().catch(() => false))) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - t0;
};

describe("cluster failures", { timeout: 600_000 }, () => {
  before(async () => {
    cluster = await startCluster([
      { id: "f1", roles: ["frontend", "pollers", "control"] },
      { id: "f2", roles: ["frontend", "pollers", "control"] },
      { id: "a1", roles: ["assignment"] },
      { id: "a2", roles: ["assignment"] },
      ...WORKERS.map((id) => ({ id, roles: ["worker"] })),
    ], {
      partitions: PARTITIONS,
      // Events leased by a poller node that dies run again when their lease ends. The default
      // lease (16 min) is sized for Lambda's 15-minute maximum timeout; these functions run for
      // under a second, so a short lease lets the test see them run again.
      env: { KILN_ASYNC_LEASE_MS: "15000" },
    });
    nc = await cluster.nats.connect();
  });
  after(async () => {
    await cluster?.close();
  });

  test("both frontends serve one function; its sandboxes spread over the workers", async () => {
    const c1 = cluster.client("f1");
    const c2 = cluster.client("f2");
    await deploy(c1, "spread");
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => invoke(i % 2 ? c1 : c2, "spread", { sleepMs: 300 })));
    assert.equal(results.length, 12);
    await until("heartbeats to show the sandboxes", async () => [...(await sandboxesByWorker()).values()].reduce((a, b) => a + b, 0) >= 6);
    const hosting = [...(await sandboxesByWorker()).entries()].filter(([, n]) => n > 0);
    assert.ok(hosting.length >= 2, `sandboxes of one function on ${hosting.length} worker(s): ${JSON.stringify(hosting)}`);
  });

  test("kill -9 a worker under load: in-flight invokes fail retryably, later ones succeed elsewhere, no accepted event is lost", async (t) => {
    const c1 = cluster.client("f1");
    const c2 = cluster.client("f2");
    await deploy(c1, "load");
    // Warm several sandboxes, then pick the worker hosting the most.
    await Promise.all(Array.from({ length: 9 }, () => invoke(c1, "load", { sleepMs: 200 })));
    const counts = await sandboxesByWorker();
    const victim = WORKERS.filter((w) => counts.has(w)).sort((a, b) => (counts.get(b) ?? 0) - (counts.get(a) ?? 0))[0]!;

    const accepted = new Map<number, string>();
    const failures: string[] = [];
    let next = 0;
    let stop = false;
    let killedAt = 0;
    let firstSuccessAfterKill = 0;
    const syncLoad = Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const c = i % 2 ? c1 : c2;
        while (!stop) {
          try {
            await invoke(c, "load", { sleepMs: 50 });
            if (killedAt && !firstSuccessAfterKill) firstSuccessAfterKill = Date.now();
          } catch (e) {
            const err = e as { name?: string; $metadata?: { httpStatusCode?: number }; message?: string };
            failures.push(`${err.name} ${err.$metadata?.httpStatusCode}: ${err.message}`);
          }
        }
      }),
    );
    const asyncLoad = Promise.all(
      Array.from({ length: 4 }, async (_, i) => {
        const c = i % 2 ? c1 : c2;
        while (!stop) {
          const n = next++;
          const r = await c.send(new InvokeCommand({ FunctionName: "load", InvocationType: "Event", Payload: Buffer.from(JSON.stringify({ n })) }));
          if (r.StatusCode === 202) accepted.set(n, r.$metadata.requestId!);
        }
      }),
    );
    await new Promise((r) => setTimeout(r, 1500));
    killedAt = Date.now();
    await cluster.kill(victim);
    await new Promise((r) => setTimeout(r, 6000));
    stop = true;
    await Promise.all([syncLoad, asyncLoad]);
    const recoveryMs = firstSuccessAfterKill - killedAt;
    t.diagnostic(`killed ${victim}; ${failures.length} failed invokes; first success after the kill in ${recoveryMs} ms; ${accepted.size} async events accepted`);
    for (const f of failures) assert.match(f, /^ServiceException 5\d\d: Kiln lost the execution environment|^TooManyRequestsException 429/, f);
    assert.ok(firstSuccessAfterKill > 0, "no invoke succeeded after the kill");
    // Later invokes succeed, on the surviving workers.
    for (let i = 0; i < 5; i++) await invoke(i % 2 ? c1 : c2, "load", {});
    // The victim's sandboxes leave the assignment table.
    const leftMs = await until("the dead worker's environments to leave the journal", async () => (await journaledEnvironments()).every((e) => e.workerId !== victim), 20_000);
    t.diagnostic(`the assignment table forgot ${victim}'s environments ${leftMs} ms after the load stopped`);
    // Every accepted event runs (at least once, with its request id).
    const ranMs = await until(
      "every accepted async event to run",
      async () => {
        const ran = executions();
        return [...accepted.keys()].every((n) => ran.has(n));
      },
      120_000,
    );
    const ran = executions();
    for (const [n, id] of accepted) assert.ok(ran.get(n)?.includes(id), `event ${n} ran with its request id ${id}`);
    t.diagnostic(`all ${accepted.size} accepted events ran (${ranMs} ms after the load stopped)`);
  });

  test("kill -9 an assignment partition leader: a follower takes over within 5 s and reuses the warm sandbox", async (t) => {
    const c1 = cluster.client("f1");
    await deploy(c1, "leader");
    const warm = await invoke(c1, "leader", {});
    assert.equal((await invoke(c1, "leader", {})).initId, warm.initId, "warm before the kill");
    const partition = partitionOf("000000000000/leader", PARTITIONS);
    const leader = (await readPartitionLeaders(nc)).find((l) => l.partition === partition);
    assert.ok(leader, `partition ${partition} has a leader`);
    const victim = leader.nodeId;
    const follower = victim === "a1" ? "a2" : "a1";
    const killedAt = Date.now();
    await cluster.kill(victim);
    let after: { initId: string } | undefined;
    while (!after) {
      try {
        after = await invoke(c1, "leader", {});
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
      if (Date.now() - killedAt > 20_000) break;
    }
    const recoveryMs = Date.now() - killedAt;
    const now = (await readPartitionLeaders(nc)).find((l) => l.partition === partition);
    t.diagnostic(`killed ${victim}, the leader of partition ${partition}; served again after ${recoveryMs} ms; new leader ${now?.nodeId}`);
    assert.equal(now?.nodeId, follower);
    assert.ok(after, "not served within 20 s");
    assert.ok(recoveryMs < 5000, `took over in ${recoveryMs} ms`);
    assert.equal(after.initId, warm.initId, "the new leader reused the warm sandbox");
    await cluster.start({ id: victim, roles: ["assignment"] });
  });

  test("stop one NATS node of three: the platform keeps serving; brought back, it rejoins", async (t) => {
    const c2 = cluster.client("f2");
    await deploy(c2, "natsdown");
    await cluster.nats.stop("n2");
    const t0 = Date.now();
    await deploy(c2, "natsdown2");
    await invoke(c2, "natsdown", {});
    const r = await c2.send(new InvokeCommand({ FunctionName: "natsdown", InvocationType: "Event", Payload: Buffer.from(JSON.stringify({ n: 1_000_000 })) }));
    assert.equal(r.StatusCode, 202);
    t.diagnostic(`with n2 down: create + invoke + async accept in ${Date.now() - t0} ms`);
    await cluster.nats.start("n2");
    const { jetstreamManager } = await import("@nats-io/jetstream");
    const jsm = await jetstreamManager(nc);
    const rejoinMs = await until(
      "n2 to be current again in the metadata bucket",
      async () => {
        const info = await jsm.streams.info("KV_kiln-meta");
        const replicas = info.cluster?.replicas ?? [];
        return replicas.length === 2 && replicas.every((p) => p.current) && [info.cluster?.leader, ...replicas.map((p) => p.name)].includes("n2");
      },
      60_000,
    );
    t.diagnostic(`n2 rejoined and caught up in ${rejoinMs} ms`);
    await until("the async event of the outage to run", async () => executions().has(1_000_000), 60_000);
  });

  test("a frontend dies: clients retrying against the other frontend succeed", async (t) => {
    const c1 = cluster.client("f1");
    const c2 = cluster.client("f2");
    await deploy(c1, "frontend");
    const accepted: number[] = [];
    for (let n = 2_000_000; n < 2_000_020; n++) {
      const r = await c1.send(new InvokeCommand({ FunctionName: "frontend", InvocationType: "Event", Payload: Buffer.from(JSON.stringify({ n })) }));
      if (r.StatusCode === 202) accepted.push(n);
    }
    await cluster.kill("f1");
    const t0 = Date.now();
    let served = false;
    for (const c of [c1, c2]) {
      try {
        await invoke(c, "frontend", {});
        served = true;
        break;
      } catch {
        // f1 is gone: the client tries the other frontend
      }
    }
    t.diagnostic(`served by the other frontend ${Date.now() - t0} ms after f1 died`);
    assert.ok(served);
    const ranMs = await until("every event accepted by the dead frontend to run", async () => accepted.every((n) => executions().has(n)), 90_000);
    t.diagnostic(`every event the dead frontend accepted ran, ${ranMs} ms after its death (events its pollers held ran again when their 15 s lease ended)`);
  });
});
