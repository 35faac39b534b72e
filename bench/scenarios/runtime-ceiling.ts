/**
 * The process-per-environment ceiling (context for scenarios 1 and 2): N of Kiln's own Node
 * runtimes (src/runtimes/nodejs, unjailed, one OS process each, as N warm environments are) driven
 * by a Runtime API stub that answers every GET /next at once with the same `{}` event. No Kiln
 * server, no jail, no client: the most invocations per second N environment processes can run on
 * this machine, and the CPU each invocation costs inside the runtime process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import { join } from "node:path";
import { FUNCTIONS_DIR, RUNTIMES_DIR } from "../functions.js";
import { num, spr, table } from "../format.js";
import type { BenchContext, Plan } from "../plan.js";
import { cpuMs } from "../procfs.js";
import { spread, type Spread } from "../stats.js";

export interface CeilingLevel {
  environments: number;
  invocationsPerSecond: Spread;
  /** CPU per invocation inside the runtime processes, µs. */
  runtimeCpuUs: Spread;
  /** CPU per invocation of the stub (the bench process), µs. */
  stubCpuUs: Spread;
}

export interface RuntimeCeilingResult {
  plan: Plan["warm"];
  levels: CeilingLevel[];
}

const API = "/2018-06-01/runtime/invocation/";

/** Answers GET /next at once; counts POSTed responses while `counting`. */
function startStub(): Promise<{ server: http.Server; address: string; count: { counting: boolean; served: number } }> {
  const count = { counting: false, served: 0 };
  let seq = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      if (req.method === "GET" && req.url === `${API}next`) {
        res.writeHead(200, {
          "Content-Type": "application/json",
          "Lambda-Runtime-Aws-Request-Id": `00000000-0000-4000-8000-${String(++seq).padStart(12, "0")}`,
          "Lambda-Runtime-Deadline-Ms": String(Date.now() + 30_000),
          "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:000000000000:function:ceiling",
        });
        res.end("{}");
        return;
      }
      if (count.counting && req.url?.endsWith("/response")) count.served++;
      res.writeHead(202, { "Content-Type": "application/json" });
      res.end('{"status":"OK"}');
    });
  });
  server.keepAliveTimeout = 3_600_000;
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const a = server.address();
      resolve({ server, address: `127.0.0.1:${typeof a === "object" && a ? a.port : 0}`, count });
    }),
  );
}

function startRuntimes(n: number, api: string): ChildProcess[] {
  const taskRoot = join(FUNCTIONS_DIR, "nodejs");
  const env = {
    AWS_LAMBDA_RUNTIME_API: api,
    _HANDLER: "index.handler",
    LAMBDA_TASK_ROOT: taskRoot,
    AWS_LAMBDA_FUNCTION_NAME: "ceiling",
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "128",
    PATH: "/usr/bin:/bin",
  };
  // The flags Kiln starts nodejs20.x with at 128 MB (sandbox/process/runtime-command.ts).
  return Array.from({ length: n }, () =>
    spawn(process.execPath, ["--max-old-space-size=108", join(RUNTIMES_DIR, "nodejs", "bootstrap.mjs")], { cwd: taskRoot, env, stdio: "ignore" }),
  );
}

export async function run(ctx: BenchContext): Promise<RuntimeCeilingResult> {
  const { plan } = ctx;
  const per = new Map<number, Array<{ ips: number; runtimeUs: number; stubUs: number }>>();
  for (let r = 1; r <= plan.warm.rounds; r++) {
    const cells: string[] = [];
    for (const n of plan.warm.concurrency) {
      const stub = await startStub();
      const runtimes = startRuntimes(n, stub.address);
      try {
        await new Promise((res) => setTimeout(res, 1000 + plan.warm.warmupS * 1000));
        const pids = runtimes.map((c) => c.pid).filter((p): p is number => p !== undefined);
        const cpu0 = pids.reduce((a, p) => a + cpuMs(p), 0);
        const stub0 = process.cpuUsage();
        const t0 = performance.now();
        stub.count.counting = true;
        await new Promise((res) => setTimeout(res, plan.warm.durationS * 1000));
        stub.count.counting = false;
        const seconds = (performance.now() - t0) / 1000;
        const served = stub.count.served;
        const stubUs = process.cpuUsage(stub0);
        const cpu1 = pids.reduce((a, p) => a + cpuMs(p), 0);
        const sample = { ips: served / seconds, runtimeUs: ((cpu1 - cpu0) * 1000) / served, stubUs: (stubUs.user + stubUs.system) / served };
        per.set(n, [...(per.get(n) ?? []), sample]);
        cells.push(`${n} runtimes ${num(sample.ips, 0)}/s (${num(sample.runtimeUs, 0)} µs CPU each)`);
      } finally {
        for (const c of runtimes) c.kill("SIGKILL");
        await Promise.all(runtimes.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((res) => c.once("exit", res)))));
        stub.server.closeAllConnections();
        await new Promise((res) => stub.server.close(res));
      }
    }
    ctx.progress(`  round ${r}/${plan.warm.rounds}: ${cells.join(" | ")}`);
  }
  return {
    plan: plan.warm,
    levels: [...per].map(([environments, xs]) => ({
      environments,
      invocationsPerSecond: spread(xs.map((x) => x.ips)),
      runtimeCpuUs: spread(xs.map((x) => x.runtimeUs)),
      stubCpuUs: spread(xs.map((x) => x.stubUs)),
    })),
  };
}

/** `kilnRps`: Kiln's warm req/s per concurrency from the same run, for the ratio. */
export function markdown(r: RuntimeCeilingResult, kilnRps: (concurrency: number) => Spread | undefined): string {
  return [
    `N of Kiln's Node runtimes, unjailed, one process each, against a Runtime API stub that answers at once (no Kiln server, no client); ${r.plan.durationS} s per measurement, ${r.plan.rounds} round(s).`,
    "",
    table(
      ["environments (processes)", "invocations/s", "runtime CPU µs per invocation", "stub CPU µs per invocation", "Kiln warm req/s at this concurrency ÷ this"],
      r.levels.map((l) => {
        const k = kilnRps(l.environments);
        return [String(l.environments), spr(l.invocationsPerSecond, 0), spr(l.runtimeCpuUs, 0), spr(l.stubCpuUs, 0), k ? `${num(k.median / l.invocationsPerSecond.median, 2)}x` : "n/a"];
      }),
    ),
  ].join("\n");
}
