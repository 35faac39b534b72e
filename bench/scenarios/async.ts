/**
 * Scenario: asynchronous invocations (Invoke with InvocationType Event) of the no-op Node handler,
 * on a fresh server per round.
 *
 * - Accepted per second: closed-loop load of signed Event invokes over N keep-alive connections
 *   (as the SDK sends them), counting 202s; the pollers run the events meanwhile, as they would,
 *   in environments made warm by an unmeasured burst first (cold starts are the cold scenario's).
 *   Then the time until the queue is empty gives the events executed per second.
 * - End-to-end latency at low load: one event at a time, from sending the Invoke until Kiln's
 *   async-stats show it succeeded (polled back to back; the poll itself is included).
 *
 * Self-contained so it runs alone: `node dist/bench/scenarios/async.js [--quick] [--isolation none]`
 * prints the figures as JSON and Markdown. `run(ctx)` and `markdown(r)` follow the other scenarios'
 * shape, so the harness can list it with one line.
 */
import http from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { CreateFunctionCommand, GetFunctionConfigurationCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { SignatureV4 } from "@smithy/signature-v4";
import type { Isolation } from "../../src/base/index.js";
import { zipFiles } from "../../src/artifacts/index.js";
import { NodeSha256 } from "../../src/api/sha256.js";
import { runLoad } from "../load.js";
import { cleanEnv, startServerProcess } from "../server-process.js";
import { InvokeSigner, type Credentials } from "../sigv4.js";
import { percentiles, spread, type Spread } from "../stats.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const HANDLER = fileURLToPath(new URL("../../../bench/functions/nodejs/index.mjs", import.meta.url));
const REGION = "us-east-1";
const KEYS: Credentials = { accessKeyId: "AKIAKILNBENCH0000001", secretAccessKey: "kiln-bench-root-secret-00000000000000000" };
const FN = "bench-async";

/** What the scenario needs from the harness (the harness's BenchContext has all of it). */
export interface AsyncBenchContext {
  plan: { quick: boolean };
  isolation: Isolation;
  progress(line: string): void;
  kilnNodeArgs?: string[];
}

export interface AsyncPlan {
  rounds: number;
  /** Seconds of Event load per round. */
  acceptS: number;
  /** Unmeasured Event load first, until the pollers' environments are warm. */
  primeS: number;
  connections: number;
  /** Sequential events timed end to end per round. */
  latencySamples: number;
}

export const asyncPlan = (quick: boolean): AsyncPlan => (quick ? { rounds: 1, acceptS: 2, primeS: 1, connections: 16, latencySamples: 10 } : { rounds: 3, acceptS: 5, primeS: 2, connections: 16, latencySamples: 100 });

export interface AsyncResult {
  plan: AsyncPlan;
  isolation: string;
  /** 202 answers per second under closed-loop load. */
  acceptedPerS: Spread;
  /** Client-side latency of the 202 (durably queued), ms. */
  acceptP50Ms: Spread;
  acceptP99Ms: Spread;
  /** Events run per second, from the start of the load until the queue was empty. */
  executedPerS: Spread;
  /** Invoke sent -> event succeeded, one at a time, ms. */
  endToEndP50Ms: Spread;
  endToEndP99Ms: Spread;
  failed: Spread;
}

interface Server {
  url: string;
  host: string;
  stop(): Promise<void>;
}

async function startServer(ctx: AsyncBenchContext): Promise<Server> {
  const dataDir = mkdtempSync(join(tmpdir(), "kiln-bench-async-"));
  const proc = await startServerProcess({
    argv: [process.execPath, ...(ctx.kilnNodeArgs ?? []), CLI, "server", "--port", "0", "--data-dir", dataDir, "--isolation", ctx.isolation],
    env: cleanEnv({ KILN_ROOT_ACCESS_KEY_ID: KEYS.accessKeyId, KILN_ROOT_SECRET_ACCESS_KEY: KEYS.secretAccessKey, KILN_LOG_LEVEL: "warn" }),
    readyPattern: /listening on (http:\/\/\S+)/,
    timeoutMs: 30_000,
    label: "kiln server",
  }).catch((e: unknown) => {
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  });
  return {
    url: proc.ready,
    host: new URL(proc.ready).host,
    stop: async () => {
      await proc.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function deploy(url: string): Promise<void> {
  const client = new LambdaClient({ endpoint: url, region: REGION, credentials: KEYS, maxAttempts: 1 });
  try {
    const { readFileSync } = await import("node:fs");
    await client.send(new CreateFunctionCommand({ FunctionName: FN, Runtime: "nodejs20.x", Handler: "index.handler", Role: "arn:aws:iam::000000000000:role/kiln-bench", Code: { ZipFile: await zipFiles({ "index.mjs": readFileSync(HANDLER) }) } }));
    for (let i = 0; ; i++) {
      const c = await client.send(new GetFunctionConfigurationCommand({ FunctionName: FN }));
      if (c.State === "Active") return;
      if (i > 3000) throw new Error(`${FN} did not become Active`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    client.destroy();
  }
}

/** GET async-stats, signed; resolves with the counters this scenario reads. */
function statsReader(url: string): () => Promise<{ depth: number; succeeded: number }> {
  const u = new URL(url);
  const path = `/kiln/2026-01-01/functions/${FN}/async-stats`;
  const signer = new SignatureV4({ credentials: KEYS, region: REGION, service: "lambda", sha256: NodeSha256, uriEscapePath: true });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return async () => {
    const signed = await signer.sign({ method: "GET", protocol: "http:", hostname: u.hostname, port: Number(u.port), path, query: {}, headers: { host: u.host } });
    const body = await new Promise<string>((resolve, reject) => {
      const req = http.request({ agent, host: u.hostname, port: u.port, method: "GET", path, headers: signed.headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString()) : reject(new Error(`async-stats ${res.statusCode}: ${Buffer.concat(chunks).toString()}`))));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end();
    });
    const s = JSON.parse(body) as { Queue: { Depth: number }; Metrics: { Succeeded: number } };
    return { depth: s.Queue.Depth, succeeded: s.Metrics.Succeeded };
  };
}

function sendOnce(agent: http.Agent, url: string, signer: InvokeSigner): Promise<number> {
  const u = new URL(url);
  const s = signer.sign();
  return new Promise((resolve, reject) => {
    const req = http.request({ agent, host: u.hostname, port: u.port, method: "POST", path: s.path, headers: s.headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(s.body);
  });
}

export async function run(ctx: AsyncBenchContext): Promise<AsyncResult> {
  const plan = asyncPlan(ctx.plan.quick);
  const per: Array<{ accepted: number; p50: number; p99: number; executed: number; e2e50: number; e2e99: number; failed: number }> = [];
  for (let r = 1; r <= plan.rounds; r++) {
    const server = await startServer(ctx);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      await deploy(server.url);
      const signer = new InvokeSigner({ host: server.host, functionName: FN, payload: "{}", region: REGION, credentials: KEYS, invocationType: "Event" });
      const stats = statsReader(server.url);

      // Latency first, on an idle server (the first event pays the cold start: leave it out).
      await sendOnce(agent, server.url, signer);
      while ((await stats()).succeeded < 1) await new Promise((res) => setTimeout(res, 5));
      const e2e: number[] = [];
      for (let i = 0; i < plan.latencySamples; i++) {
        const before = (await stats()).succeeded;
        const t0 = performance.now();
        const status = await sendOnce(agent, server.url, signer);
        if (status !== 202) throw new Error(`Event invoke answered ${status}`);
        while ((await stats()).succeeded <= before) {
          if (performance.now() - t0 > 30_000) throw new Error("an event did not run within 30 s");
        }
        e2e.push(performance.now() - t0);
      }
      const lat = percentiles(e2e);

      const drain = async (since: number): Promise<void> => {
        for (;;) {
          const s = await stats();
          if (s.depth === 0) return;
          if (performance.now() - since > 300_000) throw new Error(`the queue still held ${s.depth} events after 5 minutes`);
          await new Promise((res) => setTimeout(res, 20));
        }
      };
      const primed = performance.now();
      await runLoad({ url: server.url, signer, connections: plan.connections, durationS: plan.primeS, expectInBody: "" });
      await drain(primed);

      const t0 = performance.now();
      const load = await runLoad({ url: server.url, signer, connections: plan.connections, durationS: plan.acceptS, expectInBody: "" });
      await drain(t0);
      const executed = load.served / ((performance.now() - t0) / 1000);
      per.push({ accepted: load.rps, p50: load.latency.p50, p99: load.latency.p99, executed, e2e50: lat.p50, e2e99: lat.p99, failed: load.failed });
      ctx.progress(
        `  round ${r}/${plan.rounds}: ${load.rps.toFixed(0)} events accepted/s (202 p50 ${load.latency.p50.toFixed(2)} ms, p99 ${load.latency.p99.toFixed(2)} ms, ${load.failed} failed); ` +
          `${executed.toFixed(0)} executed/s; end to end at low load p50 ${lat.p50.toFixed(1)} ms, p99 ${lat.p99.toFixed(1)} ms`,
      );
    } finally {
      agent.destroy();
      await server.stop();
    }
  }
  const sp = (k: keyof (typeof per)[number]) => spread(per.map((x) => x[k]));
  return {
    plan,
    isolation: ctx.isolation,
    acceptedPerS: sp("accepted"),
    acceptP50Ms: sp("p50"),
    acceptP99Ms: sp("p99"),
    executedPerS: sp("executed"),
    endToEndP50Ms: sp("e2e50"),
    endToEndP99Ms: sp("e2e99"),
    failed: sp("failed"),
  };
}

const fmt = (s: Spread, digits = 0): string => (s.n === 0 ? "-" : s.n === 1 ? s.median.toFixed(digits) : `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}-${s.max.toFixed(digits)})`);

export function markdown(r: AsyncResult): string {
  return [
    `Isolation: ${r.isolation}. ${r.plan.rounds} round(s) on fresh servers; no-op Node handler; ${r.plan.connections} connections of Event invokes for ${r.plan.acceptS} s after ${r.plan.primeS} s unmeasured (warm environments); ${r.plan.latencySamples} sequential events for latency. Median (min-max) over rounds.`,
    "",
    "| figure | value | target |",
    "|---|---|---|",
    `| events accepted per second (202, durably queued) | ${fmt(r.acceptedPerS)} | >= 2,000 |`,
    `| 202 latency p50 / p99, ms | ${fmt(r.acceptP50Ms, 2)} / ${fmt(r.acceptP99Ms, 2)} | |`,
    `| events executed per second (load start -> queue empty) | ${fmt(r.executedPerS)} | |`,
    `| end to end at low load (send -> succeeded) p50 / p99, ms | ${fmt(r.endToEndP50Ms, 1)} / ${fmt(r.endToEndP99Ms, 1)} | |`,
    `| failed requests | ${fmt(r.failed)} | 0 |`,
  ].join("\n");
}

async function main(): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  const { values } = parseArgs({
    options: { quick: { type: "boolean", default: false }, isolation: { type: "string", default: "process" }, "cpu-prof-dir": { type: "string" } },
  });
  const isolation = values.isolation as Isolation;
  if (isolation !== "process" && isolation !== "none") throw new Error(`--isolation must be "process" or "none", got "${values.isolation}"`);
  const started = performance.now();
  const progress = (line: string) => process.stdout.write(`[bench ${Math.round((performance.now() - started) / 1000)}s] ${line}\n`);
  progress(`async scenario, ${values.quick ? "quick" : "full"} run, isolation ${isolation}`);
  const kilnNodeArgs = values["cpu-prof-dir"] !== undefined ? ["--cpu-prof", `--cpu-prof-dir=${values["cpu-prof-dir"]}`] : [];
  const r = await run({ plan: { quick: values.quick === true }, isolation, progress, kilnNodeArgs });
  process.stdout.write(`\n${markdown(r)}\n\n${JSON.stringify(r, null, 2)}\n`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`bench async: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
