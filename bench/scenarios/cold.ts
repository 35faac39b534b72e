/**
 * Scenario 3: cold start to first response, per runtime. Each sample gives the function a new
 * configuration (a changed environment variable; Kiln never reuses an older configuration's
 * environments), waits until the old environment is gone, and times one Invoke from the client,
 * beside the Init Duration of its REPORT line. One unmeasured cold start per runtime first, so
 * the server's own first-use costs (JIT, caches) are not counted as the function's.
 */
import http from "node:http";
import { functionCode, type BenchRuntime } from "../functions.js";
import { num, spr, table } from "../format.js";
import { invokeOnce, served, type InvokeAnswer } from "../invoke-client.js";
import { BENCH_KEYS, REGION, startKiln, type Kiln } from "../kiln.js";
import type { BenchContext, Plan } from "../plan.js";
import { InvokeSigner } from "../sigv4.js";
import { percentiles, spread, type Spread } from "../stats.js";

export interface ColdFigures {
  clientP50: Spread;
  clientP99: Spread;
  initP50: Spread;
  initP99: Spread;
  failed: Spread;
}

export interface ColdResult {
  plan: Plan["cold"];
  isolation: string;
  runtimes: Array<{ runtime: BenchRuntime; note: string; figures?: ColdFigures; error?: string; firstError?: string }>;
}

export async function run(ctx: BenchContext): Promise<ColdResult> {
  const { plan } = ctx;
  const kiln = await startKiln({ isolation: ctx.isolation, nodeArgs: ctx.kilnNodeArgs });
  const result: ColdResult = { plan: plan.cold, isolation: ctx.isolation, runtimes: [] };
  try {
    let generation = 0;
    for (const runtime of plan.cold.runtimes) {
      const name = `cold-${runtime.replace(/\W/g, "-")}`;
      let note = "";
      const agent = new http.Agent({ keepAlive: true });
      try {
        const code = await functionCode(runtime);
        note = code.note;
        await kiln.deploy(name, code);
        const signer = new InvokeSigner({ host: kiln.host, functionName: name, payload: "{}", region: REGION, credentials: BENCH_KEYS, logTail: true });
        const sample = async (): Promise<InvokeAnswer> => {
          await kiln.newConfiguration(name, ++generation);
          await environmentsGone(kiln);
          return invokeOnce(agent, kiln.url, signer);
        };
        const first = await sample();
        if (!served(first)) throw new Error(`first invoke answered ${first.status} ${first.functionError ?? ""} ${first.error ?? first.body.slice(0, 300)}`);
        const rounds: Array<{ client: number[]; init: number[]; failed: number; firstError?: string }> = [];
        for (let r = 1; r <= plan.cold.rounds; r++) {
          const round = { client: [] as number[], init: [] as number[], failed: 0, firstError: undefined as string | undefined };
          for (let i = 0; i < plan.cold.samples; i++) {
            const a = await sample();
            if (!served(a) || a.initDurationMs === undefined) {
              round.failed++;
              round.firstError ??= `${a.status} ${a.functionError ?? ""} ${a.error ?? a.body.slice(0, 200)}`;
              continue;
            }
            round.client.push(a.ms);
            round.init.push(a.initDurationMs);
          }
          rounds.push(round);
          const c = percentiles(round.client);
          const n = percentiles(round.init);
          ctx.progress(`  ${runtime} round ${r}/${plan.cold.rounds}: client p50 ${num(c.p50)} ms p99 ${num(c.p99)} ms, Init Duration p50 ${num(n.p50)} ms${round.failed ? `, ${round.failed} failed` : ""}`);
        }
        const figures: ColdFigures = {
          clientP50: spread(rounds.map((x) => percentiles(x.client).p50)),
          clientP99: spread(rounds.map((x) => percentiles(x.client).p99)),
          initP50: spread(rounds.map((x) => percentiles(x.init).p50)),
          initP99: spread(rounds.map((x) => percentiles(x.init).p99)),
          failed: spread(rounds.map((x) => x.failed)),
        };
        // Leave no environment behind: the next runtime's samples wait for an empty server.
        await kiln.newConfiguration(name, ++generation);
        await environmentsGone(kiln);
        const firstError = rounds.find((x) => x.firstError !== undefined)?.firstError;
        result.runtimes.push({ runtime, note, figures, ...(firstError !== undefined ? { firstError } : {}) });
      } catch (e) {
        const error = (e as Error).message.split("\n")[0] ?? "failed";
        ctx.progress(`  ${runtime}: not measured: ${error}`);
        result.runtimes.push({ runtime, note, error });
      } finally {
        agent.destroy();
      }
    }
    return result;
  } finally {
    await kiln.stop();
  }
}

/** Waits (up to 5 s) until the server hosts no sandbox, so a sample never overlaps a teardown. */
async function environmentsGone(kiln: Kiln): Promise<void> {
  const deadline = Date.now() + 5000;
  while (kiln.sandboxPids().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

export function markdown(r: ColdResult): string {
  const rows = r.runtimes.map((x) =>
    x.figures
      ? [x.runtime, spr(x.figures.clientP50), spr(x.figures.clientP99), spr(x.figures.initP50), spr(x.figures.initP99), spr(x.figures.failed, 0), x.note]
      : [x.runtime, "not measured", "", "", "", "", x.error ?? ""],
  );
  const lines = [
    `Isolation: ${r.isolation}. ${r.plan.rounds} round(s) of ${r.plan.samples} fresh environments per runtime; client = Invoke sent to last byte received; Init Duration from the REPORT line (X-Amz-Log-Result).`,
    "",
    table(["runtime", "client p50 ms", "client p99 ms", "Init Duration p50 ms", "Init Duration p99 ms", "failed", "handler"], rows),
  ];
  for (const x of r.runtimes) if (x.firstError) lines.push("", `${x.runtime}: first failure: ${x.firstError}`);
  return lines.join("\n");
}
