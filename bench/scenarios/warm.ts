/**
 * Scenarios 1, 2 and 6 (warm): a no-op nodejs20.x function under closed-loop load at each
 * concurrency, against Kiln, the loopback ceiling (a bare node:http server answering Kiln's bytes)
 * and serverless-offline in both modes. Every target runs in its own process and all are measured
 * in turn inside each round, so ratios compare figures taken seconds apart; they are computed
 * round by round, then summarized.
 */
import http from "node:http";
import { functionCode } from "../functions.js";
import { num, ratio, spr, table } from "../format.js";
import { invokeOnce, served } from "../invoke-client.js";
import { BENCH_KEYS, REGION, startKiln } from "../kiln.js";
import { runLoad, type LoadResult } from "../load.js";
import { cannedAnswer, LOOPBACK_SERVER } from "../loopback-server.js";
import { PEER_FUNCTION, startPeer, type PeerMode } from "../peers/serverless-offline.js";
import type { BenchContext, Plan } from "../plan.js";
import { treeCpuMs } from "../procfs.js";
import { cleanEnv, startServerProcess } from "../server-process.js";
import { InvokeSigner } from "../sigv4.js";
import { spread, type Spread } from "../stats.js";

export type WarmTargetId = "kiln" | "loopback" | "sls-worker" | "sls-in-process";

const LABELS: Record<WarmTargetId, string> = {
  kiln: "Kiln",
  loopback: "loopback ceiling (node:http)",
  "sls-worker": "serverless-offline (worker threads)",
  "sls-in-process": "serverless-offline --useInProcess",
};

export interface LevelFigures {
  rps: Spread;
  p50: Spread;
  p90: Spread;
  p99: Spread;
  failed: Spread;
  /** CPU per served request, µs: the target's own process, its child processes (Kiln's sandboxes), the load generator. */
  cpuServerUs: Spread;
  cpuChildrenUs: Spread;
  cpuLoadUs: Spread;
}

export interface WarmResult {
  plan: Plan["warm"];
  targets: Array<{ id: WarmTargetId; label: string; levels: Record<string, LevelFigures> }>;
  skipped: Array<{ id: WarmTargetId; label: string; reason: string }>;
  /** Per concurrency: Kiln minus the loopback ceiling (ms), and Kiln's share of its throughput. */
  overhead: Record<string, { p50Ms: Spread; p99Ms: Spread; throughputShare: Spread }>;
  /** Per peer and concurrency: Kiln's throughput divided by the peer's. */
  vsPeers: Partial<Record<WarmTargetId, Record<string, Spread>>>;
  /** Kiln sandboxes (execution environments and pre-initialized ones) alive at the highest concurrency. */
  kilnEnvironments: number;
}

interface Target {
  id: WarmTargetId;
  url: string;
  pid: number;
  signer: InvokeSigner;
  stop(): Promise<void>;
}

const FUNCTION = "bench-noop";

export async function run(ctx: BenchContext): Promise<WarmResult> {
  const { plan } = ctx;
  const targets: Target[] = [];
  const skipped: WarmResult["skipped"] = [];
  let kilnEnvironments = 0;
  const agent = new http.Agent({ keepAlive: true });
  try {
    const kiln = await startKiln({ isolation: ctx.isolation, nodeArgs: ctx.kilnNodeArgs });
    const kilnSigner = new InvokeSigner({ host: kiln.host, functionName: FUNCTION, payload: "{}", region: REGION, credentials: BENCH_KEYS });
    targets.push({ id: "kiln", url: kiln.url, pid: kiln.pid, signer: kilnSigner, stop: () => kiln.stop() });
    await kiln.deploy(FUNCTION, await functionCode("nodejs20.x"));
    const first = await invokeOnce(agent, kiln.url, kilnSigner);
    if (!served(first)) throw new Error(`Kiln did not serve the bench function: ${first.status} ${first.error ?? first.body}`);
    const canned = cannedAnswer(first.status, first.rawHeaders, first.body);
    const loopback = await startServerProcess({
      argv: [process.execPath, LOOPBACK_SERVER, JSON.stringify(canned)],
      env: cleanEnv(),
      readyPattern: /listening on (http:\/\/\S+)/,
      timeoutMs: 10_000,
      label: "loopback server",
    });
    targets.push({ id: "loopback", url: loopback.ready, pid: loopback.pid, signer: kilnSigner, stop: () => loopback.stop() });

    const install = await ctx.peer;
    const peers: Array<[WarmTargetId, PeerMode]> = [
      ["sls-worker", "worker"],
      ["sls-in-process", "in-process"],
    ];
    for (const [id, mode] of peers) {
      if (!install.ok) {
        skipped.push({ id, label: LABELS[id], reason: install.detail });
        continue;
      }
      try {
        const peer = await startPeer(mode);
        const signer = new InvokeSigner({ host: peer.host, functionName: PEER_FUNCTION, payload: "{}", region: REGION, credentials: BENCH_KEYS });
        targets.push({ id, url: peer.url, pid: peer.pid, signer, stop: () => peer.stop() });
        const probe = await invokeOnce(agent, peer.url, signer);
        if (!served(probe)) throw new Error(`answered ${probe.status} ${probe.error ?? probe.body.slice(0, 200)}`);
        ctx.progress(`  ${LABELS[id]} listening after ${num(peer.startMs / 1000, 1)} s`);
      } catch (e) {
        const t = targets.find((x) => x.id === id);
        if (t) {
          targets.splice(targets.indexOf(t), 1);
          await t.stop();
        }
        skipped.push({ id, label: LABELS[id], reason: (e as Error).message.split("\n")[0] ?? "failed" });
      }
    }
    for (const s of skipped) ctx.progress(`  skipping ${s.label}: ${s.reason}`);

    const top = Math.max(...plan.warm.concurrency);
    for (const t of targets) await runLoad({ url: t.url, signer: t.signer, connections: top, durationS: plan.warm.primeS });
    kilnEnvironments = kiln.sandboxPids().length;
    ctx.progress(`  primed at concurrency ${top}: Kiln hosts ${kilnEnvironments} sandboxes (environments and pre-initialized ones)`);

    const rounds = new Map<string, Sample[]>();
    for (let r = 1; r <= plan.warm.rounds; r++) {
      for (const c of plan.warm.concurrency) {
        const cells: string[] = [];
        for (const t of targets) {
          if (plan.warm.warmupS > 0) await runLoad({ url: t.url, signer: t.signer, connections: c, durationS: plan.warm.warmupS });
          const res = await measure(t, c, plan.warm.durationS);
          const key = `${t.id}@${c}`;
          rounds.set(key, [...(rounds.get(key) ?? []), res]);
          cells.push(`${t.id} ${num(res.rps, 0)}/s p50 ${num(res.latency.p50)} ms${res.failed > 0 ? ` (${res.failed} failed)` : ""}`);
        }
        ctx.progress(`  round ${r}/${plan.warm.rounds} c=${c}: ${cells.join(" | ")}`);
      }
    }
    kilnEnvironments = Math.max(kilnEnvironments, kiln.sandboxPids().length);
    return summarize(plan.warm, targets.map((t) => t.id), rounds, skipped, kilnEnvironments);
  } finally {
    agent.destroy();
    for (const t of targets.reverse()) await t.stop().catch(() => undefined);
  }
}

interface Sample extends LoadResult {
  cpu: { serverUs: number; childrenUs: number; loadUs: number };
}

/** One measured load, with the CPU each side spent on it. */
async function measure(t: Target, connections: number, durationS: number): Promise<Sample> {
  const before = treeCpuMs(t.pid);
  const load = process.cpuUsage();
  const res = await runLoad({ url: t.url, signer: t.signer, connections, durationS });
  const loadUs = process.cpuUsage(load);
  const after = treeCpuMs(t.pid);
  const per = (us: number): number => (res.served > 0 ? us / res.served : Number.NaN);
  return {
    ...res,
    cpu: { serverUs: per((after.root - before.root) * 1000), childrenUs: per((after.descendants - before.descendants) * 1000), loadUs: per(loadUs.user + loadUs.system) },
  };
}

function summarize(plan: Plan["warm"], ids: WarmTargetId[], rounds: Map<string, Sample[]>, skipped: WarmResult["skipped"], kilnEnvironments: number): WarmResult {
  const of = (id: WarmTargetId, c: number): Sample[] => rounds.get(`${id}@${c}`) ?? [];
  const targets = ids.map((id) => {
    const levels: Record<string, LevelFigures> = {};
    for (const c of plan.concurrency) {
      const rs = of(id, c);
      levels[c] = {
        rps: spread(rs.map((x) => x.rps)),
        p50: spread(rs.map((x) => x.latency.p50)),
        p90: spread(rs.map((x) => x.latency.p90)),
        p99: spread(rs.map((x) => x.latency.p99)),
        failed: spread(rs.map((x) => x.failed)),
        cpuServerUs: spread(rs.map((x) => x.cpu.serverUs)),
        cpuChildrenUs: spread(rs.map((x) => x.cpu.childrenUs)),
        cpuLoadUs: spread(rs.map((x) => x.cpu.loadUs)),
      };
    }
    return { id, label: LABELS[id], levels };
  });
  /** f(kiln round i, other round i) for every round both have. */
  const paired = (other: WarmTargetId, c: number, f: (k: Sample, o: Sample) => number): Spread => {
    const k = of("kiln", c);
    const o = of(other, c);
    return spread(k.slice(0, o.length).map((x, i) => f(x, o[i]!)));
  };
  const overhead: WarmResult["overhead"] = {};
  const vsPeers: WarmResult["vsPeers"] = {};
  for (const c of plan.concurrency) {
    overhead[c] = {
      p50Ms: paired("loopback", c, (k, o) => k.latency.p50 - o.latency.p50),
      p99Ms: paired("loopback", c, (k, o) => k.latency.p99 - o.latency.p99),
      throughputShare: paired("loopback", c, (k, o) => k.rps / o.rps),
    };
    for (const peer of ["sls-worker", "sls-in-process"] as const) {
      if (!ids.includes(peer)) continue;
      (vsPeers[peer] ??= {})[c] = paired(peer, c, (k, o) => k.rps / o.rps);
    }
  }
  return { plan, targets, skipped, overhead, vsPeers, kilnEnvironments };
}

export function markdown(r: WarmResult): string {
  const rows: string[][] = [];
  for (const t of r.targets) {
    for (const c of r.plan.concurrency) {
      const l = t.levels[c];
      if (!l) continue;
      rows.push([t.label, String(c), spr(l.rps, 0), spr(l.p50), spr(l.p90), spr(l.p99), spr(l.failed, 0)]);
    }
  }
  const out = [
    `Closed-loop load (autocannon, keep-alive, every request SigV4-signed like SDK v3), ${r.plan.durationS} s per measurement after ${r.plan.warmupS} s of warm-up, ${r.plan.rounds} round(s). Kiln hosted ${r.kilnEnvironments} sandboxes (execution environments and pre-initialized ones) at the highest concurrency.`,
    "",
    table(["target", "concurrency", "req/s", "p50 ms", "p90 ms", "p99 ms", "failed"], rows),
    "",
    "Platform overhead (scenario 2): Kiln minus the loopback ceiling, paired round by round.",
    "",
    table(
      ["concurrency", "p50 overhead ms", "p99 overhead ms", "Kiln req/s ÷ ceiling req/s"],
      r.plan.concurrency.map((c) => [String(c), spr(r.overhead[c]?.p50Ms), spr(r.overhead[c]?.p99Ms), ratio(r.overhead[c]?.throughputShare)]),
    ),
  ];
  out.push(
    "",
    "CPU per served request, µs (from /proc; 10 ms ticks): what the 2 cores pay for one warm invoke. \"children\" are Kiln's sandbox process trees (runtime + jail).",
    "",
    table(
      ["target", "concurrency", "server process", "children", "load generator"],
      r.targets.flatMap((t) => r.plan.concurrency.map((c) => [t.label, String(c), spr(t.levels[c]?.cpuServerUs, 0), spr(t.levels[c]?.cpuChildrenUs, 0), spr(t.levels[c]?.cpuLoadUs, 0)])),
    ),
  );
  const peers = Object.keys(r.vsPeers) as WarmTargetId[];
  if (peers.length > 0) {
    out.push(
      "",
      "Kiln's throughput divided by each peer's (scenario 6), paired round by round.",
      "",
      table(["concurrency", ...peers.map((p) => `Kiln ÷ ${LABELS[p]}`)], r.plan.concurrency.map((c) => [String(c), ...peers.map((p) => ratio(r.vsPeers[p]?.[c]))])),
    );
  }
  for (const s of r.skipped) out.push("", `Not measured: ${s.label}: ${s.reason}`);
  return out.join("\n");
}
