/**
 * One run's results: the JSON every figure lives in, and the Markdown rendered from it (machine
 * facts, the targets' verdicts, then each scenario's tables), written under bench/results/.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Isolation } from "../src/base/index.js";
import { table } from "./format.js";
import type { Plan } from "./plan.js";
import * as asyncInvoke from "./scenarios/async.js";
import * as cold from "./scenarios/cold.js";
import * as coldPool from "./scenarios/cold-pool.js";
import * as memory from "./scenarios/memory.js";
import * as peerCold from "./scenarios/peer-cold.js";
import * as placement from "./scenarios/placement-blast.js";
import * as clusterScenario from "./scenarios/cluster.js";
import * as runtimeCeiling from "./scenarios/runtime-ceiling.js";
import * as scaleUp from "./scenarios/scale-up.js";
import * as snapStart from "./scenarios/snapstart.js";
import * as microVm from "./scenarios/microvm.js";
import * as warm from "./scenarios/warm.js";
import { evaluateTargets } from "./targets.js";

export const RESULTS_DIR = fileURLToPath(new URL("../../bench/results/", import.meta.url));

export interface MachineFacts {
  cpus: number;
  cpuModel: string;
  memoryGB: number;
  kernel: string;
  os: string;
  node: string;
  bubblewrap: string;
  loadAverageAtStart: number[];
}

export interface Results {
  meta: {
    date: string;
    quick: boolean;
    /** Kiln ran under --cpu-prof (slower): not for quoting. */
    profiled: boolean;
    isolation: Isolation;
    kilnVersion: string;
    autocannon: string;
    peer: { serverless: string; serverlessOffline: string; install: string };
    machine: MachineFacts;
    plan: Plan;
    durationS?: number;
    loadAverageAtEnd?: number[];
  };
  warm?: warm.WarmResult;
  runtimeCeiling?: runtimeCeiling.RuntimeCeilingResult;
  cold?: cold.ColdResult;
  peerCold?: peerCold.PeerColdResult;
  scaleUp?: scaleUp.ScaleUpResult;
  memory?: memory.MemoryResult;
  async?: asyncInvoke.AsyncResult;
  coldPool?: coldPool.ColdPoolResult;
  snapStart?: snapStart.SnapStartResult;
  placement?: placement.PlacementResult;
  cluster?: clusterScenario.ClusterResult;
  microVm?: microVm.MicroVmResult;
  /** Scenario -> why it stopped. */
  failures: Record<string, string>;
}

const firstLine = (cmd: string, args: string[]): string => {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).split("\n")[0]!.trim();
  } catch {
    return "absent";
  }
};

export function machineFacts(): MachineFacts {
  let os = "unknown";
  try {
    os = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync("/etc/os-release", "utf8"))?.[1] ?? os;
  } catch {
    // not Linux-like
  }
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    memoryGB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    os,
    node: process.version,
    bubblewrap: firstLine("bwrap", ["--version"]),
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

export function packageVersion(dir: string): string {
  try {
    return (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version?: string }).version ?? "unknown";
  } catch {
    return "unknown";
  }
}

export function renderMarkdown(r: Results): string {
  const m = r.meta;
  const out: string[] = [
    `# Kiln bench, ${m.date}${m.quick ? " (--quick: not for quoting)" : ""}${m.profiled ? " (--cpu-prof: not for quoting)" : ""}`,
    "",
    `Machine: ${m.machine.cpus} × ${m.machine.cpuModel}, ${m.machine.memoryGB} GiB, ${m.machine.os}, Linux ${m.machine.kernel}, Node ${m.machine.node}, ${m.machine.bubblewrap}; load average (1/5/15 min) at start ${m.machine.loadAverageAtStart.join(" / ")}${m.loadAverageAtEnd ? `, at end ${m.loadAverageAtEnd.join(" / ")}` : ""}.`,
    `Kiln ${m.kilnVersion}, isolation \`${m.isolation}\`; autocannon ${m.autocannon}; peer serverless ${m.peer.serverless} + serverless-offline ${m.peer.serverlessOffline} (${m.peer.install}).`,
    `Every figure: median (min–max) over the rounds stated; ratios are taken round by round. Absolute numbers drift up to 30% between runs on these shared machines: compare within one run.${m.durationS !== undefined ? ` The run took ${Math.round(m.durationS / 60)} min.` : ""}`,
    "",
    "## Targets",
    "",
    table(
      ["promise", "scenario", "measured", "verdict"],
      evaluateTargets(r).map((t) => [t.promise, t.scenario, t.measured, t.verdict === "pass" ? "**pass**" : t.verdict === "miss" ? "**MISS**" : t.verdict]),
    ),
  ];
  const section = (title: string, body: string | undefined, key: string): void => {
    out.push("", `## ${title}`, "", body ?? (r.failures[key] !== undefined ? `Failed: ${r.failures[key]}` : "Not run."));
  };
  section("1, 2, 6. Warm invoke: Kiln, the loopback ceiling, serverless-offline", r.warm && warm.markdown(r.warm), "warm");
  const kilnRps = (c: number) => r.warm?.targets.find((t) => t.id === "kiln")?.levels[c]?.rps;
  section("2b. The process-per-environment ceiling", r.runtimeCeiling && runtimeCeiling.markdown(r.runtimeCeiling, kilnRps), "runtime-ceiling");
  section("3. Cold start", r.cold && cold.markdown(r.cold), "cold");
  section("6. Cold start: serverless-offline", r.peerCold && peerCold.markdown(r.peerCold), "peer-cold");
  section("4. Scale-up 0 -> 100", r.scaleUp && scaleUp.markdown(r.scaleUp), "scale-up");
  section("5. Idle memory", r.memory && memory.markdown(r.memory), "memory");
  section("Asynchronous (Event) invocations", r.async && asyncInvoke.markdown(r.async), "async");
  section("Cold starts by pool state (issue 7)", r.coldPool && coldPool.markdown(r.coldPool), "cold-pool");
  section("SnapStart (issue 7)", r.snapStart && snapStart.markdown(r.snapStart), "snapstart");
  section("Placement: shuffle sharding and decision time (issue 9)", r.placement && placement.markdown(r.placement), "placement");
  section("Cluster: 1 frontend + 1 worker vs 2 + 2 on NATS JetStream, recovery times (issue 9)", r.cluster && clusterScenario.markdown(r.cluster), "cluster");
  section("Micro-VMs: boot vs snapshot restore (issue 8)", r.microVm && microVm.markdown(r.microVm), "microvm");
  return out.join("\n") + "\n";
}

/** Writes <stamp>.json and <stamp>.md (quick runs under results/quick/, which git ignores); returns their paths. */
export function writeResults(r: Results): { json: string; markdown: string } {
  const dir = r.meta.quick ? join(RESULTS_DIR, "quick") : RESULTS_DIR;
  mkdirSync(dir, { recursive: true });
  const stamp = `${r.meta.date.replace(/[:]/g, "-").replace(/\.\d+Z$/, "Z")}-${r.meta.isolation}`;
  const json = join(dir, `${stamp}.json`);
  const md = join(dir, `${stamp}.md`);
  writeFileSync(json, JSON.stringify(r, null, 2) + "\n");
  writeFileSync(md, renderMarkdown(r));
  return { json, markdown: md };
}
