/**
 * Placement (issue 9, cluster mode): the blast radius of shuffle sharding, measured against its
 * closed form, and the cost of one placement decision. Pure CPU, no server: a few seconds.
 *
 * Blast radius: for each (n workers, k per shard), the shards of F pseudo-random function keys
 * (seeded, so every run draws the same keys); over every ordered pair of functions, the fraction
 * whose shards are identical (full overlap; expected 1 / C(n, k)) and the fraction sharing at
 * least one worker (expected 1 - C(n - k, k) / C(n, k)), src/placement/blast-radius.ts.
 *
 * Decision time: n = 3, 100 and 1,000 synthetic workers (16 GiB each, memory 20-95% used, CPU
 * 0-100%, 40 configurations of 8 accounts spread over them), placing 512 MB sandboxes of 1,000
 * functions in turn with the default shard (k = 4, spill 4); µs of this process's CPU time per
 * `decidePlacement` call (user + system, so time the shared machine gives to others is not
 * counted), timed in batches (one figure per batch, so the spread is over batches).
 *
 * Cost: a blast-radius case computes F x n rendezvous weights, so F is capped at 5,000,000 / n
 * (5,000 functions at n = 1,000; the any-overlap fraction still rests on 25 million pairs).
 */
import { decidePlacement, expectedBlastRadius, fleetBlastRadius, type BlastRadius, type WorkerLoad } from "../../src/placement/index.js";
import { num, spr, table } from "../format.js";
import type { BenchContext, Plan } from "../plan.js";
import { spread, type Spread } from "../stats.js";

export interface BlastRow {
  n: number;
  k: number;
  functions: number;
  measured: BlastRadius;
  expected: BlastRadius;
}

export interface DecisionRow {
  workers: number;
  /** CPU µs (user + system) per call, one figure per batch. */
  usPerCall: Spread;
  calls: number;
  /** Calls answered from the shard, from the spill, refused. */
  outcomes: { shard: number; spill: number; refused: number };
}

export interface PlacementResult {
  plan: Plan["placement"];
  blast: BlastRow[];
  decision: DecisionRow[];
}

const SHARD_CASES: ReadonlyArray<readonly [number, number]> = [
  [8, 2],
  [16, 4],
  [100, 4],
  [1000, 4],
];
const FLEET_SIZES = [3, 100, 1000];

/** mulberry32: the same sequence on every run. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const functionKeys = (count: number, rnd: () => number): string[] =>
  Array.from({ length: count }, (_, i) => `${String(Math.floor(rnd() * 1e12)).padStart(12, "0")}/fn-${i}`);

function syntheticFleet(n: number, rnd: () => number): WorkerLoad[] {
  const configs = Array.from({ length: 40 }, (_, i) => `${String(100000000000 + (i % 8)).padStart(12, "0")}/fn-${i}/1/r`);
  return Array.from({ length: n }, (_, i) => {
    const perConfig = new Map<string, number>();
    const perAccount = new Map<string, number>();
    let running = 0;
    for (let j = 0; j < 12; j++) {
      const c = configs[Math.floor(rnd() * configs.length)]!;
      const a = c.slice(0, 12);
      perConfig.set(c, (perConfig.get(c) ?? 0) + 1);
      perAccount.set(a, (perAccount.get(a) ?? 0) + 1);
      running++;
    }
    const total = 16384;
    return {
      id: `worker-${String(i).padStart(4, "0")}`,
      state: "active",
      totalMemoryMB: total,
      freeMemoryMB: Math.round(total * (0.05 + rnd() * 0.75)),
      runningSandboxes: running,
      cpu: rnd(),
      sandboxesOf: (k) => perConfig.get(k) ?? 0,
      sandboxesOfAccount: (a) => perAccount.get(a) ?? 0,
    };
  });
}

function timeDecisions(n: number, plan: Plan["placement"]): DecisionRow {
  const rnd = random(n);
  const fleet = syntheticFleet(n, rnd);
  const requests = functionKeys(1000, rnd).map((f) => ({ configKey: `${f}/1/r`, memoryMB: 512 }));
  const outcomes = { shard: 0, spill: 0, refused: 0 };
  for (const r of requests) {
    const d = decidePlacement(r, fleet);
    if (d.workerId === undefined) outcomes.refused++;
    else outcomes[d.from]++;
  }
  const perBatch: number[] = [];
  let calls = 0;
  let sink = 0;
  for (let b = 0; b < plan.batches; b++) {
    const start = performance.now();
    const cpu = process.cpuUsage();
    let i = 0;
    while (performance.now() - start < plan.batchMs) {
      for (let j = 0; j < 50; j++, i++) sink += decidePlacement(requests[i % requests.length]!, fleet).shard.length;
    }
    const used = process.cpuUsage(cpu);
    perBatch.push((used.user + used.system) / i);
    calls += i;
  }
  if (sink < 0) throw new Error("unreachable");
  return { workers: n, usPerCall: spread(perBatch), calls, outcomes };
}

export async function run(ctx: BenchContext): Promise<PlacementResult> {
  const plan = ctx.plan.placement;
  const blast: BlastRow[] = [];
  for (const [n, k] of SHARD_CASES) {
    const workers = Array.from({ length: n }, (_, i) => `worker-${i}`);
    const count = Math.min(plan.functions, Math.round(5_000_000 / n));
    const measured = fleetBlastRadius(functionKeys(count, random(n * 31 + k)), workers, k);
    const row: BlastRow = { n, k, functions: measured.functions, measured: { fullOverlap: measured.fullOverlap, anyOverlap: measured.anyOverlap }, expected: expectedBlastRadius(n, k) };
    blast.push(row);
    ctx.progress(`  n=${n} k=${k}: full overlap ${pct(row.measured.fullOverlap)} (expected ${pct(row.expected.fullOverlap)}), any overlap ${pct(row.measured.anyOverlap)} (expected ${pct(row.expected.anyOverlap)})`);
    await new Promise((r) => setImmediate(r));
  }
  const decision: DecisionRow[] = [];
  for (const n of FLEET_SIZES) {
    const row = timeDecisions(n, plan);
    decision.push(row);
    ctx.progress(`  ${n} workers: ${spr(row.usPerCall, 1)} µs of CPU per placement over ${row.calls} calls`);
    await new Promise((r) => setImmediate(r));
  }
  return { plan, blast, decision };
}

/** A probability as a percentage, or "1 in N" when it is small. */
function pct(p: number): string {
  if (p === 0) return "0";
  if (p < 0.001) return `1 in ${num(1 / p, 0)}`;
  return `${num(p * 100, 2)}%`;
}

export function markdown(r: PlacementResult): string {
  return [
    "Shuffle sharding by rendezvous hashing (`src/placement/`): seeded function keys, every ordered pair compared.",
    "",
    table(
      ["n workers", "k per shard", "functions", "full overlap measured", "expected 1/C(n,k)", "any overlap measured", "expected 1-C(n-k,k)/C(n,k)"],
      r.blast.map((b) => [num(b.n, 0), String(b.k), num(b.functions, 0), pct(b.measured.fullOverlap), pct(b.expected.fullOverlap), pct(b.measured.anyOverlap), pct(b.expected.anyOverlap)]),
    ),
    "",
    `Placement decision cost (\`decidePlacement\`, default k = 4 and spill 4, synthetic loads): CPU µs per call, one figure per ${r.plan.batchMs} ms batch, ${r.plan.batches} batches:`,
    "",
    table(
      ["workers", "CPU µs per decision", "calls", "from shard / spill / refused (1,000 functions)"],
      r.decision.map((d) => [num(d.workers, 0), spr(d.usPerCall, 1), num(d.calls, 0), `${d.outcomes.shard} / ${d.outcomes.spill} / ${d.outcomes.refused}`]),
    ),
  ].join("\n");
}
