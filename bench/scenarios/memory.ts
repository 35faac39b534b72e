/**
 * Scenario 5: host memory per idle execution environment. A fresh server per round; concurrent
 * Invokes of a sleeping handler bring up exactly N environments of the no-op nodejs20.x function,
 * which then sit idle for a moment before /proc is read. Per environment: PSS and RSS summed over
 * the sandbox's whole process tree (for the jail: bwrap, its init, the prelude's socat and the
 * runtime), averaged over the N sandboxes; plus the server's own RSS growth per environment.
 * Environments are counted on a server with the pool of pre-initialized sandboxes off
 * (KILN_POOL_MAX=0), so that every sandbox is one of the N; what the default pool keeps booted while
 * nothing runs is measured on its own, on a default server left idle.
 */
import http from "node:http";
import { functionCode } from "../functions.js";
import { num, spr, table } from "../format.js";
import { invokeOnce, served } from "../invoke-client.js";
import { BENCH_KEYS, REGION, startKiln } from "../kiln.js";
import type { BenchContext, Plan } from "../plan.js";
import { smapsRollup, treeMemory } from "../procfs.js";
import { InvokeSigner } from "../sigv4.js";
import { spread, type Spread } from "../stats.js";

export interface MemoryLevel {
  environments: number;
  /** Per environment, MB (1 MB = 1024 kB). */
  pssMB: Spread;
  rssMB: Spread;
  /** Processes per sandbox tree. */
  processes: Spread;
  /** Growth of the server process's own RSS per environment, MB. */
  serverRssMB: Spread;
}

export interface MemoryResult {
  plan: Plan["memory"];
  isolation: string;
  levels: MemoryLevel[];
  /** The default server at rest: its pre-initialized sandboxes, how many and what each costs. */
  pooled?: { sandboxes: Spread; pssMB: Spread; rssMB: Spread };
  error?: string;
}

const SLEEP_MS = 1000;

export async function run(ctx: BenchContext): Promise<MemoryResult> {
  const { rounds, counts, settleMs } = ctx.plan.memory;
  const samples = new Map<number, Array<{ pssKB: number; rssKB: number; processes: number; serverKB: number; found: number }>>();
  const pooled: Array<{ sandboxes: number; pssKB: number; rssKB: number }> = [];
  const code = await functionCode("nodejs20.x");
  try {
    for (let r = 1; r <= rounds; r++) {
      const rest = await startKiln({ isolation: ctx.isolation, nodeArgs: ctx.kilnNodeArgs });
      try {
        await rest.settle();
        const trees = rest.sandboxPids().map((p) => treeMemory(p));
        const k = Math.max(1, trees.length);
        pooled.push({ sandboxes: trees.length, pssKB: trees.reduce((a, t) => a + t.pssKB, 0) / k, rssKB: trees.reduce((a, t) => a + t.rssKB, 0) / k });
        ctx.progress(`  round ${r}/${rounds}: a default server at rest keeps ${trees.length} pre-initialized sandboxes, ${num(pooled[pooled.length - 1]!.pssKB / 1024, 1)} MB PSS each`);
      } finally {
        await rest.stop();
      }
      const kiln = await startKiln({ isolation: ctx.isolation, nodeArgs: ctx.kilnNodeArgs, env: { KILN_POOL_MAX: "0" } });
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1000 });
      try {
        await kiln.deploy("idle", code);
        const signer = new InvokeSigner({ host: kiln.host, functionName: "idle", payload: JSON.stringify({ sleepMs: SLEEP_MS }), region: REGION, credentials: BENCH_KEYS });
        const serverBaseKB = smapsRollup(kiln.pid)?.rssKB ?? 0;
        for (const n of counts) {
          const answers = await Promise.all(Array.from({ length: n }, () => invokeOnce(agent, kiln.url, signer)));
          const bad = answers.find((a) => !served(a));
          if (bad) throw new Error(`bringing up ${n} environments: ${bad.status} ${bad.error ?? bad.body.slice(0, 200)}`);
          await new Promise((res) => setTimeout(res, settleMs));
          const pids = kiln.sandboxPids();
          const trees = pids.map((p) => treeMemory(p));
          const sum = (f: (t: (typeof trees)[number]) => number): number => trees.reduce((a, t) => a + f(t), 0);
          const serverKB = (smapsRollup(kiln.pid)?.rssKB ?? 0) - serverBaseKB;
          const found = pids.length;
          samples.set(n, [...(samples.get(n) ?? []), { pssKB: sum((t) => t.pssKB) / found, rssKB: sum((t) => t.rssKB) / found, processes: sum((t) => t.processes) / found, serverKB: serverKB / found, found }]);
          ctx.progress(`  round ${r}/${rounds}: ${found} idle environments: ${num(sum((t) => t.pssKB) / found / 1024, 1)} MB PSS, ${num(sum((t) => t.rssKB) / found / 1024, 1)} MB RSS each`);
          if (found !== n) throw new Error(`expected ${n} environments, the server hosts ${found}`);
        }
      } finally {
        agent.destroy();
        await kiln.stop();
      }
    }
  } catch (e) {
    return { plan: ctx.plan.memory, isolation: ctx.isolation, levels: levels(samples), pooled: pool(pooled), error: (e as Error).message.split("\n")[0] ?? "failed" };
  }
  return { plan: ctx.plan.memory, isolation: ctx.isolation, levels: levels(samples), pooled: pool(pooled) };
}

const pool = (xs: Array<{ sandboxes: number; pssKB: number; rssKB: number }>): MemoryResult["pooled"] => ({
  sandboxes: spread(xs.map((x) => x.sandboxes)),
  pssMB: spread(xs.map((x) => x.pssKB / 1024)),
  rssMB: spread(xs.map((x) => x.rssKB / 1024)),
});

function levels(samples: Map<number, Array<{ pssKB: number; rssKB: number; processes: number; serverKB: number }>>): MemoryLevel[] {
  return [...samples].map(([environments, xs]) => ({
    environments,
    pssMB: spread(xs.map((x) => x.pssKB / 1024)),
    rssMB: spread(xs.map((x) => x.rssKB / 1024)),
    processes: spread(xs.map((x) => x.processes)),
    serverRssMB: spread(xs.map((x) => x.serverKB / 1024)),
  }));
}

export function markdown(r: MemoryResult): string {
  const lines = [
    `Isolation: ${r.isolation}. ${r.plan.rounds} round(s), each on a fresh server; measured ${r.plan.settleMs} ms after the last invocation. Per idle nodejs20.x environment (128 MB), summed over its sandbox's process tree.`,
    "",
    table(
      ["idle environments", "PSS MB each", "RSS MB each", "processes per sandbox", "server RSS growth MB each"],
      r.levels.map((l) => [String(l.environments), spr(l.pssMB, 1), spr(l.rssMB, 1), spr(l.processes, 0), spr(l.serverRssMB, 2)]),
    ),
  ];
  if (r.pooled && r.pooled.sandboxes.n > 0) {
    lines.push("", `A default server at rest (no function run yet) keeps ${spr(r.pooled.sandboxes, 0)} pre-initialized sandboxes booted: ${spr(r.pooled.pssMB, 1)} MB PSS, ${spr(r.pooled.rssMB, 1)} MB RSS each. The environments above were counted with the pool off (KILN_POOL_MAX=0).`);
  }
  if (r.error) lines.push("", `Stopped early: ${r.error}`);
  return lines.join("\n");
}
