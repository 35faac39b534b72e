/**
 * `npm run bench [-- --quick] [--isolation none] [--only warm,cold,...] [--cpu-prof]`: measures Kiln
 * against the loopback ceiling and serverless-offline, prints a progress line per step and the
 * Markdown summary, and writes JSON + Markdown under bench/results/ (see docs/SPECIFICATION.md).
 *
 * Order: the peer is installed first (in the background under --quick, whose numbers are never
 * quoted), then the scenarios that need only Kiln, each on fresh servers (cold starts, scale-up,
 * memory, the process-per-environment ceiling, asynchronous invocations, issue 7's pool and SnapStart
 * cold starts; first of all issue 9's placement figures, pure CPU, a few seconds), then the two that need the peer: the warm comparison and the peer's cold starts.
 */
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import type { Isolation } from "../src/base/index.js";
import { BENCH_KEYS, REGION } from "./kiln.js";
import { installPeer, PEER_DIR, SERVERLESS_OFFLINE_VERSION, SERVERLESS_VERSION, type PeerInstall } from "./peers/serverless-offline.js";
import { makePlan, type BenchContext } from "./plan.js";
import { machineFacts, packageVersion, renderMarkdown, RESULTS_DIR, writeResults, type Results } from "./report.js";
import * as asyncInvoke from "./scenarios/async.js";
import * as cold from "./scenarios/cold.js";
import * as coldPool from "./scenarios/cold-pool.js";
import * as memory from "./scenarios/memory.js";
import * as microVm from "./scenarios/microvm.js";
import * as peerCold from "./scenarios/peer-cold.js";
import * as placement from "./scenarios/placement-blast.js";
import * as clusterScenario from "./scenarios/cluster.js";
import * as runtimeCeiling from "./scenarios/runtime-ceiling.js";
import * as scaleUp from "./scenarios/scale-up.js";
import * as snapStart from "./scenarios/snapstart.js";
import * as warm from "./scenarios/warm.js";
import { InvokeSigner } from "./sigv4.js";

/** In running order: the ones that need the peer last, so a --quick run installs it meanwhile. */
const SCENARIOS = ["placement", "cold", "scale-up", "memory", "runtime-ceiling", "async", "cold-pool", "snapstart", "cluster", "microvm", "warm", "peer-cold"] as const;
type ScenarioName = (typeof SCENARIOS)[number];

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

async function main(): Promise<number> {
  // The SDK warns once per process that its 2027 releases need Node 22; it is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      isolation: { type: "string", default: "process" },
      only: { type: "string" },
      "cpu-prof": { type: "boolean", default: false },
    },
    allowPositionals: false,
  });
  const isolation = values.isolation as Isolation;
  if (isolation !== "process" && isolation !== "none") throw new Error(`--isolation must be "process" or "none", got "${values.isolation}"`);
  const only = values.only === undefined ? [...SCENARIOS] : (values.only.split(",") as ScenarioName[]);
  for (const s of only) if (!SCENARIOS.includes(s)) throw new Error(`--only takes ${SCENARIOS.join(", ")}; got "${s}"`);
  const plan = makePlan(values.quick === true);
  const started = performance.now();
  const progress = (line: string): void => {
    process.stdout.write(`[bench ${Math.round((performance.now() - started) / 1000)}s] ${line}\n`);
  };
  progress(`${plan.quick ? "quick" : "full"} run, isolation ${isolation}; scenarios: ${only.join(", ")}`);
  if (isolation === "none") progress("isolation none: functions run unjailed; the cold-start target is judged only in the jailed mode");

  await new InvokeSigner({ host: "127.0.0.1:1", functionName: "bench-noop", payload: "{}", region: REGION, credentials: BENCH_KEYS, logTail: true }).selfCheck();

  const wantsPeer = only.includes("warm") || only.includes("peer-cold");
  const peerInstall: Promise<PeerInstall> = wantsPeer
    ? (progress(`peer: installing serverless ${SERVERLESS_VERSION} + serverless-offline ${SERVERLESS_OFFLINE_VERSION} into bench/.peers/ unless present…`),
      installPeer().catch((e: unknown) => ({ ok: false, detail: `install failed: ${(e as Error).message}` })))
    : Promise.resolve({ ok: false, detail: "not requested (--only)" });
  void peerInstall.then((p) => progress(p.ok ? `peer: ${p.detail}` : `peer: NOT AVAILABLE, serverless-offline is skipped: ${p.detail}`));
  if (!plan.quick) await peerInstall;

  const profiles = join(RESULTS_DIR, "profiles", new Date().toISOString().replace(/[:.]/g, "-"));
  const kilnNodeArgs = values["cpu-prof"] === true ? ["--cpu-prof", `--cpu-prof-dir=${profiles}`] : [];
  if (kilnNodeArgs.length > 0) progress(`profiling every Kiln server into ${profiles.replace(ROOT, "")} (slower; do not quote these numbers)`);
  const ctx: BenchContext = { plan, isolation, kilnNodeArgs, peer: peerInstall, progress };
  const results: Results = {
    meta: {
      date: new Date().toISOString(),
      quick: plan.quick,
      profiled: kilnNodeArgs.length > 0,
      isolation,
      kilnVersion: packageVersion(ROOT),
      autocannon: packageVersion(`${ROOT}node_modules/autocannon`),
      peer: { serverless: SERVERLESS_VERSION, serverlessOffline: SERVERLESS_OFFLINE_VERSION, install: "pending" },
      machine: machineFacts(),
      plan,
    },
    failures: {},
  };
  const titles: Record<ScenarioName, string> = {
    cold: "3/6 cold start per runtime",
    "scale-up": "4/6 scale-up 0 -> 100",
    memory: "5/6 idle memory",
    warm: "1+2+6 warm invoke vs loopback ceiling vs serverless-offline",
    "runtime-ceiling": "2b process-per-environment ceiling",
    "peer-cold": "6/6 serverless-offline cold start",
    async: "asynchronous (Event) invocations",
    "cold-pool": "cold starts: pool hit, empty pool, no pool (issue 7)",
    snapstart: "cold starts: SnapStart (issue 7)",
    placement: "placement: shuffle-sharding blast radius and decision time (issue 9)",
    cluster: "cluster: 1+1 vs 2+2 nodes on NATS, recovery times (issue 9)",
    microvm: "micro-VM boot vs snapshot restore, page-log prefetch (issue 8)",
  };
  for (const name of only) {
    progress(`scenario ${titles[name]}…`);
    const t = performance.now();
    try {
      if (name === "cold") results.cold = await cold.run(ctx);
      else if (name === "scale-up") results.scaleUp = await scaleUp.run(ctx);
      else if (name === "memory") results.memory = await memory.run(ctx);
      else if (name === "warm") results.warm = await warm.run(ctx);
      else if (name === "runtime-ceiling") results.runtimeCeiling = await runtimeCeiling.run(ctx);
      else if (name === "peer-cold") results.peerCold = await peerCold.run(ctx);
      else if (name === "async") results.async = await asyncInvoke.run(ctx);
      else if (name === "cold-pool") results.coldPool = await coldPool.run(ctx);
      else if (name === "placement") results.placement = await placement.run(ctx);
      else if (name === "cluster") results.cluster = await clusterScenario.run(ctx);
      else if (name === "microvm") results.microVm = await microVm.run(ctx);
      else results.snapStart = await snapStart.run(ctx);
      progress(`scenario ${titles[name]}: done in ${Math.round((performance.now() - t) / 1000)} s`);
    } catch (e) {
      results.failures[name] = (e as Error).message;
      progress(`scenario ${titles[name]}: FAILED: ${(e as Error).message}`);
    }
  }
  const peer = await peerInstall;
  results.meta.peer.install = peer.ok ? `installed in ${PEER_DIR.replace(ROOT, "")}` : peer.detail;
  results.meta.durationS = Math.round((performance.now() - started) / 1000);
  results.meta.loadAverageAtEnd = loadavg().map((x) => Math.round(x * 100) / 100);
  const files = writeResults(results);
  process.stdout.write("\n" + renderMarkdown(results) + "\n");
  progress(`wrote ${files.json.replace(ROOT, "")} and ${files.markdown.replace(ROOT, "")}`);
  return Object.keys(results.failures).length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
