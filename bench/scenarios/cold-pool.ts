/**
 * Cold starts from the pool of pre-initialized sandboxes, per runtime (nodejs20.x, python3.11):
 *
 *   - pool hit:   the class has an idle pre-initialized sandbox (the server is otherwise quiet);
 *   - pool empty: a second cold start right after the hit, while the pool refills (its boot
 *                 competes for the CPU): a fresh spawn, the pool-empty case the targets ask for.
 *                 The pool server runs with KILN_POOL_MAX=1, or the pool would grow with this very
 *                 demand (two cold starts per second) and serve the second one too;
 *   - no pool:    the same cold start on a server started with KILN_POOL_MAX=0 (every cold start
 *                 spawns, as before the pool existed).
 *
 * Each sample gives the two functions of a runtime new configurations (Kiln never reuses an older
 * configuration's environments), waits until the server hosts no environment and the pool holds its
 * targets, then invokes one function and at once the other. Hits and misses are read from Kiln's
 * pool counters, never guessed from timings. Client time is Invoke sent to last byte received;
 * Init Duration comes from REPORT (a pooled start measures from specialization).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { zipFiles } from "../../src/artifacts/index.js";
import { percentiles, spread, type Spread } from "../stats.js";
import { FUNCTIONS_DIR, num, spr, startBenchKiln, table, type BenchKiln, type ColdAnswer, type ScenarioContext } from "./coldstart-kit.js";

export type PoolRuntime = "nodejs20.x" | "python3.11";
export type PoolCase = "hit" | "empty" | "noPool";

export interface ColdPoolPlan {
  rounds: number;
  samples: number;
  runtimes: PoolRuntime[];
}

export const coldPoolPlan = (quick: boolean): ColdPoolPlan =>
  quick ? { rounds: 1, samples: 5, runtimes: ["nodejs20.x", "python3.11"] } : { rounds: 3, samples: 20, runtimes: ["nodejs20.x", "python3.11"] };

export interface CaseFigures {
  clientP50: Spread;
  clientP99: Spread;
  initP50: Spread;
  /** Samples that did not land in this case (e.g. a miss where a hit was wanted), over all rounds. */
  misclassified: number;
  failed: number;
}

export interface ColdPoolResult {
  plan: ColdPoolPlan;
  isolation: string;
  runtimes: Array<{ runtime: PoolRuntime; cases: Partial<Record<PoolCase, CaseFigures>>; error?: string }>;
}

const FILES: Record<PoolRuntime, { handler: string; file: string; source: string }> = {
  "nodejs20.x": { handler: "index.handler", file: "index.mjs", source: join(FUNCTIONS_DIR, "nodejs", "index.mjs") },
  "python3.11": { handler: "app.handler", file: "app.py", source: join(FUNCTIONS_DIR, "python", "app.py") },
};

interface Sample {
  client: number[];
  init: number[];
  misclassified: number;
  failed: number;
}

const emptySample = (): Sample => ({ client: [], init: [], misclassified: 0, failed: 0 });

function record(s: Sample, a: ColdAnswer, inCase: boolean): void {
  if (a.status !== 200 || a.functionError !== undefined || a.initMs === undefined) {
    s.failed++;
    return;
  }
  if (!inCase) {
    s.misclassified++;
    return;
  }
  s.client.push(a.ms);
  s.init.push(a.initMs);
}

export async function run(ctx: ScenarioContext): Promise<ColdPoolResult> {
  const plan = coldPoolPlan(ctx.plan.quick);
  const result: ColdPoolResult = { plan, isolation: ctx.isolation, runtimes: plan.runtimes.map((runtime) => ({ runtime, cases: {} })) };
  const rounds = new Map<string, Sample[]>(); // `${runtime}/${case}` -> one Sample per round
  for (const [mode, poolMax] of [["pool", 1], ["noPool", 0]] as const) {
    const kiln = await startBenchKiln({ isolation: ctx.isolation, ...(ctx.kilnNodeArgs ? { nodeArgs: ctx.kilnNodeArgs } : {}), poolMin: 1, poolMax });
    try {
      let generation = 0;
      for (const runtime of plan.runtimes) {
        const f = FILES[runtime];
        const zip = await zipFiles({ [f.file]: readFileSync(f.source) });
        const a = `pool-${runtime.replace(/\W/g, "")}-a`;
        const b = `pool-${runtime.replace(/\W/g, "")}-b`;
        await kiln.deploy(a, runtime, f.handler, zip);
        await kiln.deploy(b, runtime, f.handler, zip);
        const sample = async (): Promise<{ first: ColdAnswer; second: ColdAnswer; hit: [boolean, boolean] }> => {
          generation++;
          await kiln.newConfiguration(a, generation);
          await kiln.newConfiguration(b, generation);
          const before = await kiln.quiet();
          const first = await kiln.invoke(a);
          const second = mode === "pool" ? await kiln.invoke(b) : first;
          const after = await kiln.pool();
          const hits = (after.hits ?? 0) - (before.hits ?? 0);
          // Two cold starts: a hit then a miss is the expected order (the refill cannot be ready yet).
          return { first, second, hit: mode === "pool" ? [hits >= 1, hits >= 2] : [false, false] };
        };
        try {
          await sample(); // unmeasured: the server's own first-use costs
          for (let r = 0; r < plan.rounds; r++) {
            const cases: Partial<Record<PoolCase, Sample>> = mode === "pool" ? { hit: emptySample(), empty: emptySample() } : { noPool: emptySample() };
            for (let i = 0; i < plan.samples; i++) {
              const s = await sample();
              if (mode === "pool") {
                record(cases.hit!, s.first, s.hit[0]);
                record(cases.empty!, s.second, !s.hit[1]);
              } else {
                record(cases.noPool!, s.first, true);
              }
            }
            for (const [c, smp] of Object.entries(cases)) {
              const key = `${runtime}/${c}`;
              rounds.set(key, [...(rounds.get(key) ?? []), smp]);
              const p = percentiles(smp.client);
              ctx.progress(`  ${runtime} ${c} round ${r + 1}/${plan.rounds}: client p50 ${num(p.p50)} ms p99 ${num(p.p99)} ms, Init Duration p50 ${num(percentiles(smp.init).p50)} ms${smp.misclassified ? `, ${smp.misclassified} in another case` : ""}${smp.failed ? `, ${smp.failed} failed` : ""}`);
            }
          }
          // Leave no environment behind: the next runtime's samples wait for an empty server.
          await kiln.newConfiguration(a, ++generation);
          await kiln.newConfiguration(b, generation);
        } catch (e) {
          const entry = result.runtimes.find((x) => x.runtime === runtime)!;
          entry.error = `${mode}: ${(e as Error).message.split("\n")[0]}`;
          ctx.progress(`  ${runtime} ${mode}: not measured: ${entry.error}`);
        }
      }
    } finally {
      await kiln.stop();
    }
  }
  for (const entry of result.runtimes) {
    for (const c of ["hit", "empty", "noPool"] as const) {
      const rs = rounds.get(`${entry.runtime}/${c}`);
      if (!rs) continue;
      entry.cases[c] = {
        clientP50: spread(rs.map((x) => percentiles(x.client).p50)),
        clientP99: spread(rs.map((x) => percentiles(x.client).p99)),
        initP50: spread(rs.map((x) => percentiles(x.init).p50)),
        misclassified: rs.reduce((n, x) => n + x.misclassified, 0),
        failed: rs.reduce((n, x) => n + x.failed, 0),
      };
    }
  }
  return result;
}

export function markdown(r: ColdPoolResult): string {
  const label: Record<PoolCase, string> = { hit: "pool hit", empty: "pool empty (refilling)", noPool: "no pool (KILN_POOL_MAX=0)" };
  const rows: string[][] = [];
  for (const x of r.runtimes) {
    for (const c of ["hit", "empty", "noPool"] as const) {
      const f = x.cases[c];
      if (f) rows.push([x.runtime, label[c], spr(f.clientP50), spr(f.clientP99), spr(f.initP50), String(f.misclassified), String(f.failed)]);
    }
    if (x.error) rows.push([x.runtime, "not measured", "", "", "", "", x.error]);
  }
  return [
    `Isolation: ${r.isolation}. ${r.plan.rounds} round(s) of ${r.plan.samples} samples per runtime and case; client = Invoke sent to last byte received; Init Duration from REPORT (from specialization for a pool hit). Anchor: Firecracker boots a micro-VM in <= 125 ms and restores a snapshot in < 8 ms.`,
    "",
    table(["runtime", "case", "client p50 ms", "client p99 ms", "Init Duration p50 ms", "other case", "failed"], rows),
  ].join("\n");
}
