import { test } from "node:test";
import assert from "node:assert/strict";
import { decidePlacement, place } from "./place.js";
import { shardOf } from "./shard.js";
import { randomFunctionKeys, workerIds, workerLoad, type LoadSpec } from "./testing.js";
import type { WorkerLoad } from "./load.js";

const THUMB = "111122223333/thumbnail/3/r1";
const OTHER = "111122223333/resize/1/r9";
const thumb = { configKey: THUMB, memoryMB: 512 };
const opts = { shardSize: 3, spill: 3 };

/** The header's worked example: w1..w6, 4096 MB each. */
function example(over: Record<string, LoadSpec> = {}): WorkerLoad[] {
  const base: Record<string, LoadSpec> = {
    w6: { sandboxes: { [OTHER]: 3 }, otherSandboxes: 1, freeMemoryMB: 1024, cpu: 0.95 },
    w5: { sandboxes: { [THUMB]: 2 }, otherSandboxes: 6, freeMemoryMB: 2048, cpu: 0.3 },
    w2: { sandboxes: { [THUMB]: 1 }, otherSandboxes: 3, freeMemoryMB: 3072, cpu: 0.5 },
    w1: { cpu: 0.1 },
    w4: { cpu: 0.1 },
    w3: { cpu: 0.1 },
  };
  return workerIds(6).map((id) => workerLoad(id, { ...base[id], ...over[id] }));
}

test("the worked example in place.ts", () => {
  assert.deepEqual(decidePlacement(thumb, example(), opts), { workerId: "w2", from: "shard", shard: ["w6", "w5", "w2"] });
  assert.deepEqual(decidePlacement(thumb, example({ w2: { state: "draining" }, w5: { freeMemoryMB: 256 } }), opts), {
    workerId: "w1",
    from: "shard",
    shard: ["w6", "w5", "w1"],
  });
  const full = { freeMemoryMB: 256 };
  assert.deepEqual(decidePlacement(thumb, example({ w6: full, w5: full, w2: full }), opts), { workerId: "w1", from: "spill", shard: ["w6", "w5", "w2"] });
  const allFull = Object.fromEntries(workerIds(6).map((w) => [w, full]));
  assert.deepEqual(decidePlacement(thumb, example(allFull), opts), { workerId: undefined, reason: "no-room", shard: ["w6", "w5", "w2"] });
});

test("spill stays bounded: a full shard spills only to the next-ranked s workers", () => {
  const full = { freeMemoryMB: 100 };
  // Shard w6, w5, w2 and spill w1 full; w4 and w3 have room: spill 1 refuses, spill 3 takes w4 or w3.
  const loads = example({ w6: full, w5: full, w2: full, w1: full });
  assert.equal(place(thumb, loads, { shardSize: 3, spill: 1 }), undefined);
  assert.equal(place(thumb, loads, { shardSize: 3, spill: 0 }), undefined);
  assert.ok(["w4", "w3"].includes(place(thumb, loads, opts)!));
});

test("draining, full and unknown workers are skipped; no active worker -> refused", () => {
  const ws = [workerLoad("a", { state: "draining" }), workerLoad("b", { freeMemoryMB: 100 }), workerLoad("c", { cpu: Number.NaN }), workerLoad("d", { totalMemoryMB: 0 })];
  assert.deepEqual(decidePlacement(thumb, ws), { workerId: undefined, reason: "no-room", shard: ["b"] });
  assert.deepEqual(decidePlacement(thumb, [workerLoad("a", { state: "draining" })]), { workerId: undefined, reason: "no-active-worker", shard: [] });
  assert.equal(place(thumb, []), undefined);
  assert.equal(place(thumb, [...ws, workerLoad("e")]), "e");
});

test("one machine, as before: spread first, then best fit, then the lower id", () => {
  const f = "a/f/1/r";
  const w = (id: string, free: number, ofF = 0) => workerLoad(id, { freeMemoryMB: free, sandboxes: { [f]: ofF } });
  assert.equal(place({ configKey: f, memoryMB: 128 }, [w("w1", 1000, 2), w("w2", 300), w("w3", 100)]), "w2");
  assert.equal(place({ configKey: "g", memoryMB: 128 }, [w("a", 1000), w("b", 500)]), "b");
  assert.equal(place({ configKey: "g", memoryMB: 128 }, [w("b", 500), w("a", 500)]), "a");
});

test("within the shard: hot workers lose, accounts mix", () => {
  const f = "A/f/1/r";
  // Two equal workers, one hot.
  assert.equal(place({ configKey: f, memoryMB: 128 }, [workerLoad("a", { cpu: 0.99 }), workerLoad("b", { cpu: 0.5 })]), "b");
  // Two equal workers, one mostly running account A's other functions.
  const a = workerLoad("a", { sandboxes: { "A/g/1/r": 5 }, otherSandboxes: 1 });
  const b = workerLoad("b", { sandboxes: { "B/g/1/r": 5 }, otherSandboxes: 1 });
  assert.equal(place({ configKey: f, memoryMB: 128 }, [a, b]), "b");
});

test("one function spreads round-robin over its shard and never leaves it while the shard has room", () => {
  const ids = workerIds(40);
  const counts = new Map<string, number>();
  const cfg = "A/f/1/r";
  const loads = (): WorkerLoad[] => ids.map((id) => workerLoad(id, { sandboxes: { [cfg]: counts.get(id) ?? 0 }, totalMemoryMB: 100_000 }));
  for (let i = 0; i < 20; i++) {
    const w = place({ configKey: cfg, memoryMB: 128 }, loads())!;
    counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  const shard = shardOf("A/f", ids);
  assert.deepEqual([...counts.keys()].sort(), [...shard].sort());
  for (const w of shard) assert.equal(counts.get(w), 5);
});

test("deterministic: same loads, same answer, whatever their order", () => {
  const ids = workerIds(30);
  const loads = ids.map((id, i) => workerLoad(id, { freeMemoryMB: 1024 + ((i * 97) % 2048), cpu: ((i * 37) % 100) / 100, sandboxes: { "A/f/1/r": i % 3 } }));
  const reversed = [...loads].reverse();
  for (const key of randomFunctionKeys(200, 3)) {
    const r = { configKey: `${key}/1/r`, memoryMB: 256 };
    const first = decidePlacement(r, loads);
    assert.deepEqual(decidePlacement(r, loads), first);
    assert.deepEqual(decidePlacement(r, reversed), first);
    assert.ok(first.workerId !== undefined && first.shard.includes(first.workerId));
    assert.deepEqual(first.shard, shardOf(key, ids));
  }
});

test("the request's functionKey, when given, decides the shard", () => {
  const ids = workerIds(30);
  const loads = ids.map((id) => workerLoad(id));
  const d = decidePlacement({ configKey: "whatever", functionKey: "A/f", memoryMB: 128 }, loads);
  assert.deepEqual(d.shard, shardOf("A/f", ids));
});
