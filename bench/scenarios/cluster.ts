/**
 * Cluster mode (issue 9): warm invoke throughput and latency of 1 frontend + 1 worker against
 * 2 frontends + 2 workers, each topology a fresh set of real `kiln node` processes on one NATS
 * JetStream server, all on this 2-core machine; then recovery times in the larger topology: a
 * worker killed with SIGKILL under load (time until invokes succeed again, failed invokes) and
 * the assignment partition leader killed (time until the function is served again, and whether
 * its warm sandbox was reused).
 *
 * On one 2-core machine more nodes cannot mean more throughput: every process competes for the
 * same two cores. The figures show what the cluster's hops cost next to standalone, not how it
 * scales; scaling needs machines.
 */
import http from "node:http";
import { CreateFunctionCommand, waitUntilFunctionActiveV2, type Runtime } from "@aws-sdk/client-lambda";
import { functionCode } from "../functions.js";
import { num, table } from "../format.js";
import { invokeOnce, served } from "../invoke-client.js";
import { BENCH_KEYS, REGION } from "../kiln.js";
import { runLoad, type LoadResult } from "../load.js";
import type { BenchContext } from "../plan.js";
import { InvokeSigner } from "../sigv4.js";
import { partitionOf, readPartitionLeaders } from "../../src/cluster/assignment/index.js";
import { startCluster, type NodeSpec, type TestCluster } from "../../test/support/cluster.js";

const ACCOUNT = "000000000000";
const PARTITIONS = 4;

const ROLE = "arn:aws:iam::000000000000:role/kiln-bench";

interface Topology {
  name: string;
  frontends: number;
  workers: number;
}

const TOPOLOGIES: Topology[] = [
  { name: "1 frontend + 1 worker", frontends: 1, workers: 1 },
  { name: "2 frontends + 2 workers", frontends: 2, workers: 2 },
];

export interface ClusterTopologyResult {
  topology: string;
  connections: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  failed: number;
}

export interface ClusterResult {
  isolation: string;
  durationS: number;
  topologies: ClusterTopologyResult[];
  recovery?: {
    workerKill: { failedInvokes: number; servedAgainMs: number };
    leaderKill: { servedAgainMs: number; warmReused: boolean };
  };
}

function nodesOf(t: Topology): NodeSpec[] {
  const nodes: NodeSpec[] = [];
  for (let i = 1; i <= t.frontends; i++) nodes.push({ id: `f${i}`, roles: ["frontend", "assignment", "pollers", "control"] });
  for (let i = 1; i <= t.workers; i++) nodes.push({ id: `w${i}`, roles: ["worker"] });
  return nodes;
}

async function deploy(cluster: TestCluster): Promise<void> {
  const code = await functionCode("nodejs20.x");
  const c = cluster.client("f1");
  await c.send(new CreateFunctionCommand({ FunctionName: "bench-noop", Runtime: code.runtime as Runtime, Handler: code.handler, Role: ROLE, Code: { ZipFile: code.zip } }));
  await waitUntilFunctionActiveV2({ client: c, maxWaitTime: 60, minDelay: 1 }, { FunctionName: "bench-noop" });
}

const signerFor = (url: string) => new InvokeSigner({ host: new URL(url).host, functionName: "bench-noop", payload: "{}", region: REGION, credentials: BENCH_KEYS });

async function start(t: Topology, ctx: BenchContext): Promise<TestCluster> {
  return startCluster(nodesOf(t), {
    natsNodes: 1,
    partitions: PARTITIONS,
    keys: BENCH_KEYS,
    env: {
      KILN_ISOLATION: ctx.isolation,
      KILN_LOG_LEVEL: "error",
    },
  });
}

/** Load on every frontend at once, the connections split between them. */
async function measure(cluster: TestCluster, t: Topology, connections: number, durationS: number): Promise<LoadResult[]> {
  const fronts = [...cluster.nodes.values()].filter((n) => n.url);
  return Promise.all(fronts.map((n) => runLoad({ url: n.url!, signer: signerFor(n.url!), connections: Math.max(1, Math.round(connections / t.frontends)), durationS })));
}

/** Invokes in a loop from `workers` clients until stopped; records when each answer came and whether it was served. */
function loop(url: string, workers: number) {
  const agent = new http.Agent({ keepAlive: true });
  const signer = signerFor(url);
  const answers: Array<{ at: number; ok: boolean; body: string }> = [];
  let stop = false;
  const done = Promise.all(
    Array.from({ length: workers }, async () => {
      while (!stop) {
        const a = await invokeOnce(agent, url, signer, 30_000);
        answers.push({ at: performance.now(), ok: served(a), body: a.body });
      }
    }),
  );
  return {
    answers,
    stop: async () => {
      stop = true;
      await done;
      agent.destroy();
    },
  };
}

export async function run(ctx: BenchContext): Promise<ClusterResult> {
  const durationS = ctx.plan.quick ? 2 : 8;
  const primeS = ctx.plan.quick ? 2 : 4;
  const connections = 20;
  const out: ClusterResult = { isolation: ctx.isolation, durationS, topologies: [] };
  for (const t of TOPOLOGIES) {
    ctx.progress(`  ${t.name}: starting NATS and ${t.frontends + t.workers} kiln node processes…`);
    const cluster = await start(t, ctx);
    try {
      await deploy(cluster);
      // Creates the environments (no pool in these nodes: every one is a full cold start).
      await measure(cluster, t, connections, primeS);
      const loads = await measure(cluster, t, connections, durationS);
      const r: ClusterTopologyResult = {
        topology: t.name,
        connections,
        rps: loads.reduce((a, l) => a + l.rps, 0),
        p50Ms: Math.max(...loads.map((l) => l.latency.p50)),
        p99Ms: Math.max(...loads.map((l) => l.latency.p99)),
        failed: loads.reduce((a, l) => a + l.failed, 0),
      };
      out.topologies.push(r);
      ctx.progress(`  ${t.name}: ${num(r.rps, 0)} invokes/s at ${connections} connections, p50 ${num(r.p50Ms, 1)} ms, p99 ${num(r.p99Ms, 1)} ms, ${r.failed} failed`);

      if (t.workers >= 2) {
        // A worker killed under load.
        const url = cluster.nodes.get("f1")!.url!;
        const l = loop(url, 4);
        await new Promise((r) => setTimeout(r, 1000));
        const killedAt = performance.now();
        await cluster.kill("w1");
        await new Promise((r) => setTimeout(r, ctx.plan.quick ? 3000 : 6000));
        await l.stop();
        const after = l.answers.filter((a) => a.at >= killedAt);
        const firstFailure = after.findIndex((a) => !a.ok);
        const lastFailure = after.length - 1 - [...after].reverse().findIndex((a) => !a.ok);
        const failedInvokes = after.filter((a) => !a.ok).length;
        const servedAgainMs = firstFailure < 0 ? 0 : (after.slice(lastFailure + 1).find((a) => a.ok)?.at ?? Number.NaN) - killedAt;
        // The assignment leader of the function's partition killed: f1 and f2 both run assignment.
        const before = await invokeOnce(new http.Agent(), url, signerFor(url));
        const env0 = /"environment":\s*"([^"]+)"/.exec(before.body)?.[1];
        const partition = partitionOf(`${ACCOUNT}/bench-noop`, PARTITIONS);
        const nc = await cluster.nats.connect();
        const victim = (await readPartitionLeaders(nc)).find((l) => l.partition === partition)?.nodeId ?? "f2";
        const url2 = cluster.nodes.get(victim === "f1" ? "f2" : "f1")!.url!;
        const leaderKilledAt = performance.now();
        await cluster.kill(victim);
        let again: { body: string } | undefined;
        while (performance.now() - leaderKilledAt < 20_000) {
          const a = await invokeOnce(new http.Agent(), url2, signerFor(url2), 10_000);
          if (served(a)) {
            again = a;
            break;
          }
          await new Promise((r) => setTimeout(r, 50));
        }
        const env1 = again ? /"environment":\s*"([^"]+)"/.exec(again.body)?.[1] : undefined;
        out.recovery = {
          workerKill: { failedInvokes, servedAgainMs },
          leaderKill: { servedAgainMs: again ? performance.now() - leaderKilledAt : Number.NaN, warmReused: env0 !== undefined && env0 === env1 },
        };
        ctx.progress(
          `  recovery: worker kill -9: ${failedInvokes} failed invokes, served again after ${num(servedAgainMs, 0)} ms; ` +
            `assignment node kill -9: served again after ${num(out.recovery.leaderKill.servedAgainMs, 0)} ms, warm sandbox reused: ${out.recovery.leaderKill.warmReused}`,
        );
      }
    } finally {
      await cluster.close();
    }
  }
  return out;
}

export function markdown(r: ClusterResult): string {
  const lines = [
    `Isolation: ${r.isolation}. Each topology: a fresh NATS server and fresh \`kiln node\` processes on this machine; load from autocannon on every frontend at once (connections split evenly), ${r.durationS} s after an unmeasured warm-up that creates the environments; p50/p99 are the worst frontend's.`,
    "",
    table(
      ["topology", "connections", "invokes/s", "p50 ms", "p99 ms", "failed"],
      r.topologies.map((t) => [t.topology, String(t.connections), num(t.rps, 0), num(t.p50Ms, 1), num(t.p99Ms, 1), String(t.failed)]),
    ),
  ];
  if (r.recovery) {
    lines.push(
      "",
      `Recovery (2 + 2): worker killed with SIGKILL under 4 concurrent clients: ${r.recovery.workerKill.failedInvokes} failed invokes, every invoke served again ${num(r.recovery.workerKill.servedAgainMs, 0)} ms after the kill. ` +
        `Assignment node killed with SIGKILL: served again after ${num(r.recovery.leaderKill.servedAgainMs, 0)} ms; the warm sandbox was ${r.recovery.leaderKill.warmReused ? "reused" : "NOT reused"}.`,
    );
  }
  return lines.join("\n");
}
