import { test } from "node:test";
import assert from "node:assert/strict";
import { binomial, expectedBlastRadius, fleetBlastRadius, measureBlastRadius } from "./blast-radius.js";
import { randomFunctionKeys, workerIds } from "./testing.js";

test("the closed forms: the worked example's figures", () => {
  assert.equal(binomial(8, 2), 28);
  assert.equal(binomial(16, 4), 1820);
  assert.equal(binomial(100, 4), 3_921_225);
  assert.equal(binomial(3, 5), 0);
  const e = expectedBlastRadius(8, 2);
  assert.equal(e.fullOverlap, 1 / 28);
  assert.equal(e.anyOverlap, 1 - 15 / 28);
  assert.ok(Math.abs(expectedBlastRadius(100, 4).anyOverlap - 0.1528) < 1e-4);
  assert.deepEqual(expectedBlastRadius(3, 3), { fullOverlap: 1, anyOverlap: 1 });
});

/** |measured - expected| within 4.5 standard errors of a fraction over `count` samples. */
function near(measured: number, expected: number, count: number, what: string): void {
  const se = Math.sqrt((expected * (1 - expected)) / count);
  assert.ok(Math.abs(measured - expected) <= 4.5 * se, `${what}: measured ${measured}, expected ${expected} ± ${4.5 * se}`);
}

for (const [n, k] of [
  [8, 2],
  [10, 3],
  [16, 4],
  [100, 4],
] as const) {
  test(`measured blast radius over 20,000 functions matches the formula: n=${n}, k=${k}`, () => {
    const keys = randomFunctionKeys(20_001, n * 100 + k);
    const r = measureBlastRadius(keys[0]!, keys.slice(1), workerIds(n), k);
    const e = expectedBlastRadius(n, k);
    assert.equal(r.others, 20_000);
    near(r.fullOverlap, e.fullOverlap, r.others, "full overlap");
    near(r.anyOverlap, e.anyOverlap, r.others, "any overlap");
  });
}

test("a function is not its own neighbour; no others, no fractions", () => {
  assert.deepEqual(measureBlastRadius("a/f", ["a/f"], workerIds(8), 2), { fullOverlap: 0, anyOverlap: 0, others: 0 });
  const r = measureBlastRadius("a/f", ["a/f", "a/g"], workerIds(2), 2);
  assert.deepEqual(r, { fullOverlap: 1, anyOverlap: 1, others: 1 });
});

test("the fleet average equals the mean of every function's own fractions (subsets and pair by pair)", () => {
  for (const [n, k] of [
    [8, 2],
    [12, 4],
    [30, 11],
  ] as const) {
    const keys = randomFunctionKeys(300, n + k);
    const ws = workerIds(n);
    const fleet = fleetBlastRadius([...keys, keys[0]!], ws, k);
    let full = 0;
    let any = 0;
    for (const key of keys) {
      const r = measureBlastRadius(key, keys, ws, k);
      full += r.fullOverlap;
      any += r.anyOverlap;
    }
    assert.equal(fleet.functions, 300);
    assert.ok(Math.abs(fleet.fullOverlap - full / 300) < 1e-12, `n=${n} k=${k} full`);
    assert.ok(Math.abs(fleet.anyOverlap - any / 300) < 1e-12, `n=${n} k=${k} any`);
  }
  assert.deepEqual(fleetBlastRadius(["a/f"], workerIds(4), 2), { fullOverlap: 0, anyOverlap: 0, functions: 1 });
});
