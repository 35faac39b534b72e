import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../../base/index.js";
import { burstDemand, poolTargets, type ColdStart, type PoolSizingConfig, type PoolTarget } from "./sizing.js";

const config: PoolSizingConfig = { min: 1, max: 8, windowMs: 60_000, burstMs: 1_000, reserveMB: 512, defaultMemoryMB: 128 };
const RUNTIMES = ["nodejs20.x", "python3.11"] as const;
const KINDS = [...RUNTIMES, "snapstart"] as const;

/** Targets as "runtime/memory" -> count, zeros dropped, for compact assertions. */
const asMap = (targets: PoolTarget[]): Record<string, number> =>
  Object.fromEntries(targets.filter((t) => t.target > 0).map((t) => [`${t.kind}/${t.memoryMB}`, t.target]));

test("pool sizing: the header's worked example, clock injected", () => {
  const clock = new ManualClock(0);
  const t0 = clock.now();
  const starts: ColdStart[] = [0, 200, 300, 900, 1500, 30_000].map((ms) => ({ at: t0 + ms, kind: "nodejs20.x", memoryMB: 128 }));
  starts.push({ at: t0 + 10_000, kind: "nodejs20.x", memoryMB: 512 });
  clock.advance(40_000);
  const at = (freeMemoryMB: number) => asMap(poolTargets({ now: clock.now(), coldStarts: starts, freeMemoryMB, kinds: RUNTIMES }, config));
  assert.deepEqual(at(4096), { "nodejs20.x/128": 4, "nodejs20.x/512": 1, "python3.11/128": 1 });
  assert.deepEqual(at(1000), { "nodejs20.x/128": 2, "python3.11/128": 1 });
  clock.advance(60_000); // t = 100 s: the window is empty, only the floors remain
  assert.deepEqual(at(4096), { "nodejs20.x/128": 1, "python3.11/128": 1 });
});

test("pool sizing: without cold starts each runtime keeps its floor at the default memory size", () => {
  assert.deepEqual(asMap(poolTargets({ now: 5, coldStarts: [], freeMemoryMB: 8192, kinds: RUNTIMES }, config)), { "nodejs20.x/128": 1, "python3.11/128": 1 });
  assert.deepEqual(asMap(poolTargets({ now: 5, coldStarts: [], freeMemoryMB: 8192, kinds: RUNTIMES }, { ...config, min: 0 })), {});
});

test("pool sizing: the floor follows a runtime's busiest memory size", () => {
  const starts: ColdStart[] = [1, 2_000, 4_000].map((at) => ({ at, kind: "python3.11", memoryMB: 1024 }));
  assert.deepEqual(asMap(poolTargets({ now: 5_000, coldStarts: starts, freeMemoryMB: 8192, kinds: RUNTIMES }, config)), { "nodejs20.x/128": 1, "python3.11/1024": 1 });
});

test("pool sizing: a burst raises the target up to the ceiling per runtime; max 0 disables the pool", () => {
  const burst: ColdStart[] = Array.from({ length: 20 }, (_, i) => ({ at: 1_000 + i * 10, kind: "nodejs20.x" as const, memoryMB: 256 }));
  const targets = asMap(poolTargets({ now: 2_000, coldStarts: burst, freeMemoryMB: 64 * 1024, kinds: RUNTIMES }, config));
  assert.deepEqual(targets, { "nodejs20.x/256": 8, "python3.11/128": 1 });
  assert.deepEqual(poolTargets({ now: 2_000, coldStarts: burst, freeMemoryMB: 64 * 1024, kinds: RUNTIMES }, { ...config, max: 0 }), []);
});

test("pool sizing: the ceiling is shared by a runtime's memory sizes, biggest demand first", () => {
  const starts: ColdStart[] = [
    ...Array.from({ length: 6 }, (_, i) => ({ at: 100 + i, kind: "nodejs20.x" as const, memoryMB: 128 })),
    ...Array.from({ length: 5 }, (_, i) => ({ at: 200 + i, kind: "nodejs20.x" as const, memoryMB: 256 })),
  ];
  assert.deepEqual(asMap(poolTargets({ now: 1_000, coldStarts: starts, freeMemoryMB: 64 * 1024, kinds: ["nodejs20.x"] }, config)), { "nodejs20.x/128": 6, "nodejs20.x/256": 2 });
});

test("pool sizing: memory pressure trims every class, floors included; nothing is pooled below the reserve", () => {
  assert.deepEqual(asMap(poolTargets({ now: 0, coldStarts: [], freeMemoryMB: 512 + 128, kinds: RUNTIMES }, config)), { "nodejs20.x/128": 1 });
  assert.deepEqual(asMap(poolTargets({ now: 0, coldStarts: [], freeMemoryMB: 300, kinds: RUNTIMES }, config)), {});
});

test("pool sizing: cold starts older than the window or of other runtimes are ignored", () => {
  const starts: ColdStart[] = [{ at: 0, kind: "nodejs20.x", memoryMB: 2048 }];
  assert.deepEqual(asMap(poolTargets({ now: 60_000, coldStarts: starts, freeMemoryMB: 8192, kinds: RUNTIMES }, config)), { "nodejs20.x/128": 1, "python3.11/128": 1 });
  assert.deepEqual(asMap(poolTargets({ now: 10, coldStarts: starts, freeMemoryMB: 8192, kinds: ["python3.11"] }, config)), { "python3.11/128": 1 });
});

test("pool sizing: a floorless kind (the SnapStart launcher) is kept only on demand", () => {
  const input = { now: 10_000, freeMemoryMB: 8192, kinds: KINDS, floorless: ["snapstart" as const] };
  assert.deepEqual(asMap(poolTargets({ ...input, coldStarts: [] }, config)), { "nodejs20.x/128": 1, "python3.11/128": 1 });
  const restores: ColdStart[] = [{ at: 9_000, kind: "snapstart", memoryMB: 512 }, { at: 9_500, kind: "snapstart", memoryMB: 512 }];
  assert.deepEqual(asMap(poolTargets({ ...input, coldStarts: restores }, config)), { "nodejs20.x/128": 1, "python3.11/128": 1, "snapstart/512": 2 });
});

test("burst demand: the most start times within any interval of the burst length", () => {
  assert.equal(burstDemand([], 1000), 0);
  assert.equal(burstDemand([5], 1000), 1);
  assert.equal(burstDemand([0, 999, 1000, 1500, 1999], 1000), 3);
  assert.equal(burstDemand([0, 500, 999, 1000], 1000), 3);
});
