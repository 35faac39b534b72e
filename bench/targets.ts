/**
 * Kiln's numeric promises (issue 4, on the 2-core machines here), each judged from one run's
 * results: the median over rounds against the target, with the spread beside it. A target whose
 * scenario did not run, or that must be measured jailed and was not, is "not measured".
 */
import { num, ratio, spr } from "./format.js";
import type { Results } from "./report.js";

export type Verdict = "pass" | "miss" | "not measured";

export interface TargetOutcome {
  id: string;
  promise: string;
  scenario: string;
  measured: string;
  verdict: Verdict;
}

const judge = (ok: boolean | undefined): Verdict => (ok === undefined ? "not measured" : ok ? "pass" : "miss");
const known = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v);

export function evaluateTargets(r: Results): TargetOutcome[] {
  const kiln = r.warm?.targets.find((t) => t.id === "kiln");
  const top = r.warm ? String(Math.max(...r.warm.plan.concurrency)) : "50";
  const rps50 = kiln?.levels[top]?.rps;
  const vsInProcess = r.warm?.vsPeers["sls-in-process"]?.[top];
  const over1 = r.warm?.overhead["1"];
  const node = r.cold?.rows.find((x) => x.runtime === "nodejs20.x" && x.pool === "default")?.figures;
  const nodeFresh = r.cold?.rows.find((x) => x.runtime === "nodejs20.x" && x.pool === "off")?.figures;
  const jailed = r.meta.isolation === "process";
  const scale = r.scaleUp;
  const mem = r.memory?.levels ?? [];
  const worstPss = mem.length > 0 ? Math.max(...mem.map((l) => l.pssMB.median)) : undefined;
  const scaleClean = scale !== undefined && scale.throttles.max === 0 && scale.errors.max === 0 && scale.allServedMs.n === scale.plan.rounds;
  return [
    {
      id: "warm-throughput",
      promise: `warm invoke throughput >= 5,000/s at concurrency ${top}`,
      scenario: "1 (warm)",
      measured: rps50 ? `${spr(rps50, 0)} req/s` : "n/a",
      verdict: judge(known(rps50?.median) ? rps50!.median >= 5000 : undefined),
    },
    {
      id: "warm-vs-peer",
      promise: `warm throughput >= 2x serverless-offline --useInProcess at concurrency ${top}`,
      scenario: "1 + 6 (warm)",
      measured: vsInProcess ? ratio(vsInProcess) : "n/a",
      verdict: judge(known(vsInProcess?.median) ? vsInProcess!.median >= 2 : undefined),
    },
    {
      id: "overhead-p50",
      promise: "warm platform overhead p50 < 1 ms at concurrency 1",
      scenario: "2 (loopback)",
      measured: over1 ? `${spr(over1.p50Ms)} ms` : "n/a",
      verdict: judge(known(over1?.p50Ms.median) ? over1!.p50Ms.median < 1 : undefined),
    },
    {
      id: "overhead-p99",
      promise: "warm platform overhead p99 < 5 ms at concurrency 1",
      scenario: "2 (loopback)",
      measured: over1 ? `${spr(over1.p99Ms)} ms` : "n/a",
      verdict: judge(known(over1?.p99Ms.median) ? over1!.p99Ms.median < 5 : undefined),
    },
    {
      id: "cold-nodejs",
      promise: "cold start, nodejs20.x, jailed: p50 < 100 ms to first response",
      scenario: "3 (cold)",
      measured: node
        ? `${spr(node.clientP50)} ms with the default pool of pre-initialized sandboxes${nodeFresh ? `; ${spr(nodeFresh.clientP50)} ms spawning a fresh one (pool off)` : ""}${jailed ? "" : ` (isolation ${r.meta.isolation}: does not count)`}`
        : "n/a",
      verdict: judge(known(node?.clientP50.median) && jailed ? node!.clientP50.median < 100 : undefined),
    },
    {
      id: "scale-up",
      promise: "0 -> 100 concurrent environments in < 3 s with no client-visible errors",
      scenario: "4 (scale-up)",
      measured: scale ? `all served in ${spr(scale.allServedMs, 0)} ms (1 s of it the handler's sleep); ${num(scale.throttles.max, 0)} throttles, ${num(scale.errors.max, 0)} errors in the worst round` : "n/a",
      verdict: judge(scale ? scaleClean && scale.allServedMs.median < 3000 : undefined),
    },
    {
      id: "idle-memory",
      promise: "idle environment <= 40 MB PSS",
      scenario: "5 (memory)",
      measured: mem.length > 0 ? mem.map((l) => `${spr(l.pssMB, 1)} MB at ${l.environments}`).join("; ") : "n/a",
      verdict: judge(known(worstPss) ? worstPss <= 40 : undefined),
    },
  ];
}
