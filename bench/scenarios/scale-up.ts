/**
 * Scenario 4: scale-up from zero. A fresh server and function per round; N Invokes of a handler
 * that sleeps 1 s are sent at once over N keep-alive connections. Measured: time from the first
 * request until all N are served (1 s of it is the handler's sleep), distinct environments that
 * served them (from the handler's answer), throttles (429) and any other client-visible error.
 */
import http from "node:http";
import { functionCode } from "../functions.js";
import { num, spr, table } from "../format.js";
import { environmentOf, invokeOnce, served } from "../invoke-client.js";
import { BENCH_KEYS, REGION, startKiln } from "../kiln.js";
import type { BenchContext, Plan } from "../plan.js";
import { treeCpuMs } from "../procfs.js";
import { InvokeSigner } from "../sigv4.js";
import { spread, type Spread } from "../stats.js";

export interface ScaleUpResult {
  plan: Plan["scaleUp"];
  isolation: string;
  /** First request to last answer, ms (includes the handler's sleep). */
  allServedMs: Spread;
  /** allServedMs minus the sleep: until the last environment had started and answered. */
  lastEnvironmentReadyMs: Spread;
  environments: Spread;
  throttles: Spread;
  /** Non-2xx other than 429, connection errors, function errors. */
  errors: Spread;
  /** CPU the server and its sandboxes spent until all were served, per environment, ms (from /proc; 2 cores have 2,000 ms per second). */
  cpuPerEnvironmentMs: Spread;
  firstError?: string;
}

export async function run(ctx: BenchContext): Promise<ScaleUpResult> {
  const { environments: n, sleepMs, rounds } = ctx.plan.scaleUp;
  const per: Array<{ allServedMs: number; environments: number; throttles: number; errors: number; cpuMs: number }> = [];
  let firstError: string | undefined;
  const code = await functionCode("nodejs20.x");
  for (let r = 1; r <= rounds; r++) {
    const kiln = await startKiln({ isolation: ctx.isolation, nodeArgs: ctx.kilnNodeArgs });
    const agent = new http.Agent({ keepAlive: true, maxSockets: n * 2 });
    try {
      await kiln.deploy("scale-up", code);
      const signer = new InvokeSigner({ host: kiln.host, functionName: "scale-up", payload: JSON.stringify({ sleepMs }), region: REGION, credentials: BENCH_KEYS });
      const cpu0 = treeCpuMs(kiln.pid);
      const t0 = performance.now();
      const answers = await Promise.all(Array.from({ length: n }, () => invokeOnce(agent, kiln.url, signer).then((a) => ({ a, done: performance.now() - t0 }))));
      const ok = answers.filter(({ a }) => served(a));
      const throttles = answers.filter(({ a }) => a.status === 429).length;
      const errors = answers.length - ok.length - throttles;
      const bad = answers.find(({ a }) => !served(a))?.a;
      if (bad) firstError ??= `${bad.status} ${bad.functionError ?? ""} ${bad.error ?? bad.body.slice(0, 200)}`;
      const allServedMs = ok.length === n ? Math.max(...answers.map((x) => x.done)) : Number.NaN;
      const environments = new Set(ok.map(({ a }) => environmentOf(a))).size;
      const cpu1 = treeCpuMs(kiln.pid);
      const cpuMs = (cpu1.root - cpu0.root + cpu1.descendants - cpu0.descendants) / n;
      per.push({ allServedMs, environments, throttles, errors, cpuMs });
      ctx.progress(`  round ${r}/${rounds}: ${ok.length}/${n} served by ${environments} environments in ${num(allServedMs, 0)} ms, ${throttles} throttled, ${errors} errors; ${num(cpuMs, 0)} ms CPU per environment`);
    } finally {
      agent.destroy();
      await kiln.stop();
    }
  }
  return {
    plan: ctx.plan.scaleUp,
    isolation: ctx.isolation,
    allServedMs: spread(per.map((x) => x.allServedMs)),
    lastEnvironmentReadyMs: spread(per.map((x) => x.allServedMs - sleepMs)),
    environments: spread(per.map((x) => x.environments)),
    throttles: spread(per.map((x) => x.throttles)),
    errors: spread(per.map((x) => x.errors)),
    cpuPerEnvironmentMs: spread(per.map((x) => x.cpuMs)),
    ...(firstError !== undefined ? { firstError } : {}),
  };
}

export function markdown(r: ScaleUpResult): string {
  const lines = [
    `Isolation: ${r.isolation}. ${r.plan.rounds} round(s), each on a fresh server: ${r.plan.environments} concurrent Invokes of a handler sleeping ${r.plan.sleepMs} ms.`,
    "",
    table(
      ["all served ms", "minus the sleep ms", "distinct environments", "throttles (429)", "other errors", "CPU ms per environment"],
      [[spr(r.allServedMs, 0), spr(r.lastEnvironmentReadyMs, 0), spr(r.environments, 0), spr(r.throttles, 0), spr(r.errors, 0), spr(r.cpuPerEnvironmentMs, 0)]],
    ),
  ];
  if (r.firstError) lines.push("", `First failure: ${r.firstError}`);
  return lines.join("\n");
}
