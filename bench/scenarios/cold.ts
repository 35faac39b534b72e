/**
 * Scenario 3: cold start to first response, per runtime. Each sample gives the function a new
 * configuration (a changed environment variable; Kiln never reuses an older configuration's
 * environments), waits until the server is quiet (the old environment torn down, the pool of
 * pre-initialized sandboxes refilled), and times one Invoke from the client, beside the Init
 * Duration of its REPORT line. One unmeasured cold start per runtime first, so the server's own
 * first-use costs (JIT, caches) are not counted as the function's.
 *
 * Two servers: the default one, whose cold starts of pooled runtimes (nodejs20.x, python3.11)
 * specialize a pre-initialized sandbox, and one with the pool off (KILN_POOL_MAX=0), where every
 * cold start spawns a fresh sandbox, as a burst larger than the pool does. provided.al2023 is never
 * pooled and runs on the default server only.
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

export type PoolMode = "default" | "off";

export interface ColdRow {
  runtime: BenchRuntime;
  /** "default": the server's pool of pre-initialized sandboxes; "off": KILN_POOL_MAX=0. */
  pool: PoolMode;
  note: string;
  figures?: ColdFigures;
  error?: string;
  firstError?: string;
}

export interface ColdResult {
  plan: Plan["cold"];
  isolation: string;
  rows: ColdRow[];
}

const POOLED: readonly BenchRuntime[] = ["nodejs20.x", "python3.11"];

export async function run(ctx: BenchContext): Promise<ColdResult> {
  const { plan } = ctx;
  const result: ColdResult = { plan: plan.cold, isolation: ctx.isolation, rows: [] };
  for (const pool of ["default", "off"] as const) {
    const runtimes = plan.cold.runtimes.filter((r) => pool === "default" || POOLED.includes(r));
    if (runtimes.length === 0) continue;
    const kiln = await startKiln({ isolation: ctx.isolation, nodeArgs: ctx.kilnNodeArgs, ...(pool === "off" ? { env: { KILN_POOL_MAX: "0" } } : {}) });
    try {
      for (const runtime of runtimes) result.rows.push(await measure(ctx, kiln, runtime, pool));
    } finally {
      await kiln.stop();
    }
  }
  return result;
}

let generation = 0;

async function measure(ctx: BenchContext, kiln: Kiln, runtime: BenchRuntime, pool: PoolMode): Promise<ColdRow> {
  const { plan } = ctx;
  const label = `${runtime}${pool === "off" ? " (pool off)" : ""}`;
  const name = `cold-${runtime.replace(/\W/g, "-")}`;
  const agent = new http.Agent({ keepAlive: true });
  let note = "";
  try {
    const code = await functionCode(runtime);
    note = code.note;
    await kiln.deploy(name, code);
    const signer = new InvokeSigner({ host: kiln.host, functionName: name, payload: "{}", region: REGION, credentials: BENCH_KEYS, logTail: true });
    const sample = async (): Promise<InvokeAnswer> => {
      await kiln.newConfiguration(name, ++generation);
      await kiln.settle();
      return invokeOnce(agent, kiln.url, signer);
    };
    const first = await sample();
    if (!served(first)) throw new Error(`first invoke answered ${first.status} ${first.functionError ?? ""} ${first.error ?? first.body.slice(0, 300)}`);
    const rounds: Array<{ client: number[]; init: number[]; failed: number }> = [];
    let firstError: string | undefined;
    for (let r = 1; r <= plan.cold.rounds; r++) {
      const round = { client: [] as number[], init: [] as number[], failed: 0 };
      for (let i = 0; i < plan.cold.samples; i++) {
        const a = await sample();
        if (!served(a) || a.initDurationMs === undefined) {
          round.failed++;
          firstError ??= `${a.status} ${a.functionError ?? ""} ${a.error ?? a.body.slice(0, 200)}`;
          continue;
        }
        round.client.push(a.ms);
        round.init.push(a.initDurationMs);
      }
      rounds.push(round);
      const c = percentiles(round.client);
      const n = percentiles(round.init);
      ctx.progress(`  ${label} round ${r}/${plan.cold.rounds}: client p50 ${num(c.p50)} ms p99 ${num(c.p99)} ms, Init Duration p50 ${num(n.p50)} ms${round.failed ? `, ${round.failed} failed` : ""}`);
    }
    // Leave no environment behind for the next runtime's samples.
    await kiln.newConfiguration(name, ++generation);
    await kiln.settle();
    const figures: ColdFigures = {
      clientP50: spread(rounds.map((x) => percentiles(x.client).p50)),
      clientP99: spread(rounds.map((x) => percentiles(x.client).p99)),
      initP50: spread(rounds.map((x) => percentiles(x.init).p50)),
      initP99: spread(rounds.map((x) => percentiles(x.init).p99)),
      failed: spread(rounds.map((x) => x.failed)),
    };
    return { runtime, pool, note, figures, ...(firstError !== undefined ? { firstError } : {}) };
  } catch (e) {
    const error = (e as Error).message.split("\n")[0] ?? "failed";
    ctx.progress(`  ${label}: not measured: ${error}`);
    return { runtime, pool, note, error };
  } finally {
    agent.destroy();
  }
}

export function markdown(r: ColdResult): string {
  const sandbox = (x: ColdRow): string => (x.pool === "off" ? "fresh spawn (pool off)" : POOLED.includes(x.runtime) ? "pre-initialized (default pool)" : "fresh spawn (never pooled)");
  const rows = r.rows.map((x) =>
    x.figures
      ? [x.runtime, sandbox(x), spr(x.figures.clientP50), spr(x.figures.clientP99), spr(x.figures.initP50), spr(x.figures.initP99), spr(x.figures.failed, 0), x.note]
      : [x.runtime, sandbox(x), "not measured", "", "", "", "", x.error ?? ""],
  );
  const lines = [
    `Isolation: ${r.isolation}. ${r.plan.rounds} round(s) of ${r.plan.samples} fresh environments per row, one at a time on a quiet server; client = Invoke sent to last byte received; Init Duration from the REPORT line (X-Amz-Log-Result).`,
    "",
    table(["runtime", "sandbox", "client p50 ms", "client p99 ms", "Init Duration p50 ms", "Init Duration p99 ms", "failed", "handler"], rows),
  ];
  for (const x of r.rows) if (x.firstError) lines.push("", `${x.runtime} (${sandbox(x)}): first failure: ${x.firstError}`);
  return lines.join("\n");
}
