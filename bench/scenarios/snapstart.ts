/**
 * SnapStart on a heavy-init Node function (heavy-function.ts: ~1 MB of JavaScript in 120 modules
 * plus a 150,000-entry Map built at load), three versions of the same code on one server, their
 * cold starts interleaved sample by sample:
 *   - plain: published without SnapStart: init runs (in a pre-initialized runtime when one is free);
 *   - SnapStart: its cold starts take a sandbox Kiln restored from the snapshot ahead of them (pool
 *     kind restored:<snapshot>, sized by the version's own cold-start rate);
 *   - SnapStart, restore on demand: the same, with a NODE_OPTIONS variable, which rules out
 *     restoring before its environment is known: the snapshot is restored at the cold start, by
 *     Kiln's exec launcher in a pre-initialized jail. This is the cost of the restore itself.
 *
 * Both variants start from pre-initialized sandboxes when the pool has one (the runtime pool for the
 * plain version, the SnapStart launcher pool for restores); the table says how many did.
 *
 * A version's environments cannot be told to go (versions are immutable), so the server runs with
 * KILN_KEEP_ALIVE_MS=1000 and each sample waits until the previous environments were reaped.
 * Client time is Invoke sent to last byte received; the REPORT line gives Init Duration (plain)
 * or Restore Duration (SnapStart). The figure the target judges: plain p50 / SnapStart p50 >= 2.
 */
import { zipFiles } from "../../src/artifacts/index.js";
import { percentiles, spread, type Spread } from "../stats.js";
import { heavyFunctionFiles } from "./heavy-function.js";
import { num, spr, startBenchKiln, table, type ColdAnswer, type ScenarioContext } from "./coldstart-kit.js";

export interface SnapStartPlan {
  rounds: number;
  samples: number;
  memoryMB: number;
}

export const snapStartPlan = (quick: boolean): SnapStartPlan => (quick ? { rounds: 1, samples: 3, memoryMB: 512 } : { rounds: 3, samples: 10, memoryMB: 512 });

export interface VariantFigures {
  clientP50: Spread;
  clientP99: Spread;
  initP50: Spread;
  failed: number;
  /** Cold starts served by a pre-initialized sandbox (a runtime, or the SnapStart launcher). */
  pooled: number;
  samples: number;
}

export interface SnapStartResult {
  plan: SnapStartPlan;
  isolation: string;
  snapshot?: { optimizationStatus: string; reason?: string; buildMs: number };
  plain?: VariantFigures;
  snapStart?: VariantFigures;
  onDemand?: VariantFigures;
  /** plain client p50 / SnapStart client p50, round by round. */
  speedup?: Spread;
  /** plain client p50 / restore-on-demand client p50, round by round. */
  onDemandSpeedup?: Spread;
  error?: string;
}

interface Round {
  client: number[];
  init: number[];
  failed: number;
  pooled: number;
}

export async function run(ctx: ScenarioContext): Promise<SnapStartResult> {
  const plan = snapStartPlan(ctx.plan.quick);
  const result: SnapStartResult = { plan, isolation: ctx.isolation };
  const kiln = await startBenchKiln({ isolation: ctx.isolation, ...(ctx.kilnNodeArgs ? { nodeArgs: ctx.kilnNodeArgs } : {}), poolMin: 1, poolMax: 8, keepAliveMs: 1000 });
  try {
    const zip = await zipFiles(heavyFunctionFiles());
    await kiln.deploy("heavy-plain", "nodejs20.x", "index.handler", zip, { memoryMB: plan.memoryMB });
    await kiln.deploy("heavy-snap", "nodejs20.x", "index.handler", zip, { memoryMB: plan.memoryMB, snapStart: true });
    await kiln.deploy("heavy-exec", "nodejs20.x", "index.handler", zip, { memoryMB: plan.memoryMB, snapStart: true, environment: { NODE_OPTIONS: "--no-deprecation" } });
    await kiln.publish("heavy-plain");
    await kiln.publish("heavy-exec");
    const t0 = performance.now();
    const v = await kiln.publish("heavy-snap");
    const raw = v.SnapStart as { OptimizationStatus?: string } | undefined;
    result.snapshot = { optimizationStatus: raw?.OptimizationStatus ?? "Off", buildMs: Math.round(performance.now() - t0), ...(v.StateReason ? { reason: v.StateReason } : {}) };
    ctx.progress(`  snapshot of heavy-snap:1: ${result.snapshot.optimizationStatus} after ${num(result.snapshot.buildMs, 0)} ms${v.StateReason ? ` (${v.StateReason})` : ""}`);
    if (result.snapshot.optimizationStatus !== "On") throw new Error(`no snapshot: ${v.StateReason ?? "unknown"}`);
    const cold = async (name: string): Promise<ColdAnswer & { pooled: boolean }> => {
      const before = await kiln.quiet(60_000);
      const a = await kiln.invoke(name, "1");
      const after = await kiln.pool();
      return { ...a, pooled: (after.hits ?? 0) > (before.hits ?? 0) };
    };
    for (const name of ["heavy-plain", "heavy-snap", "heavy-exec"]) await cold(name); // unmeasured: first-use costs, and demand for the pools
    const plainRounds: Round[] = [];
    const snapRounds: Round[] = [];
    const execRounds: Round[] = [];
    const ratios: number[] = [];
    const execRatios: number[] = [];
    for (let r = 0; r < plan.rounds; r++) {
      const plain: Round = { client: [], init: [], failed: 0, pooled: 0 };
      const snap: Round = { client: [], init: [], failed: 0, pooled: 0 };
      const exec: Round = { client: [], init: [], failed: 0, pooled: 0 };
      for (let i = 0; i < plan.samples; i++) {
        for (const [name, into, restored] of [["heavy-plain", plain, false], ["heavy-snap", snap, true], ["heavy-exec", exec, true]] as const) {
          const a = await cold(name);
          if (a.status !== 200 || a.functionError !== undefined || a.initMs === undefined || a.restored !== restored) {
            into.failed++;
            continue;
          }
          into.client.push(a.ms);
          into.init.push(a.initMs);
          if (a.pooled) into.pooled++;
        }
      }
      plainRounds.push(plain);
      snapRounds.push(snap);
      execRounds.push(exec);
      const p = percentiles(plain.client).p50;
      const s = percentiles(snap.client).p50;
      const x = percentiles(exec.client).p50;
      ratios.push(p / s);
      execRatios.push(p / x);
      ctx.progress(
        `  round ${r + 1}/${plan.rounds}: without SnapStart p50 ${num(p)} ms (Init ${num(percentiles(plain.init).p50)}), SnapStart p50 ${num(s)} ms (Restore ${num(percentiles(snap.init).p50)}): ${num(p / s, 2)}x; restore on demand p50 ${num(x)} ms (Restore ${num(percentiles(exec.init).p50)}): ${num(p / x, 2)}x`,
      );
    }
    const figures = (rs: Round[]): VariantFigures => ({
      clientP50: spread(rs.map((x) => percentiles(x.client).p50)),
      clientP99: spread(rs.map((x) => percentiles(x.client).p99)),
      initP50: spread(rs.map((x) => percentiles(x.init).p50)),
      failed: rs.reduce((n, x) => n + x.failed, 0),
      pooled: rs.reduce((n, x) => n + x.pooled, 0),
      samples: rs.reduce((n, x) => n + x.client.length, 0),
    });
    result.plain = figures(plainRounds);
    result.snapStart = figures(snapRounds);
    result.onDemand = figures(execRounds);
    result.speedup = spread(ratios);
    result.onDemandSpeedup = spread(execRatios);
  } catch (e) {
    result.error = (e as Error).message.split("\n")[0] ?? "failed";
    ctx.progress(`  not measured: ${result.error}`);
  } finally {
    await kiln.stop();
  }
  return result;
}

export function markdown(r: SnapStartResult): string {
  if (!r.plain || !r.snapStart || !r.onDemand) return `Not measured: ${r.error ?? "no figures"}.`;
  return [
    `Isolation: ${r.isolation}. Heavy-init nodejs20.x function (~1 MB of JavaScript in 120 modules + a 150,000-entry Map), ${r.plan.memoryMB} MB, published without SnapStart and twice with it (the second with NODE_OPTIONS, so its restores happen on demand; snapshot made in ${num(r.snapshot?.buildMs ?? Number.NaN, 0)} ms). ${r.plan.rounds} round(s) of ${r.plan.samples} interleaved cold starts of each version. Anchor: Firecracker restores a micro-VM snapshot in < 8 ms.`,
    "",
    table(
      ["version", "client p50 ms", "client p99 ms", "Init / Restore Duration p50 ms", "from the pool", "failed"],
      [
        ["without SnapStart (init runs)", spr(r.plain.clientP50), spr(r.plain.clientP99), spr(r.plain.initP50), `${r.plain.pooled}/${r.plain.samples}`, String(r.plain.failed)],
        ["SnapStart (restored ahead)", spr(r.snapStart.clientP50), spr(r.snapStart.clientP99), spr(r.snapStart.initP50), `${r.snapStart.pooled}/${r.snapStart.samples}`, String(r.snapStart.failed)],
        ["SnapStart, restore on demand (exec launcher)", spr(r.onDemand.clientP50), spr(r.onDemand.clientP99), spr(r.onDemand.initP50), `${r.onDemand.pooled}/${r.onDemand.samples}`, String(r.onDemand.failed)],
      ],
    ),
    "",
    `Speedup (client p50 without / with SnapStart, round by round): ${r.speedup ? `${spr(r.speedup, 2)}x` : "n/a"} restored ahead; ${r.onDemandSpeedup ? `${spr(r.onDemandSpeedup, 2)}x` : "n/a"} restored on demand.`,
  ].join("\n");
}
