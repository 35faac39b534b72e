/** Unit tests of the bench's statistics (run with `node --test dist/bench/`). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { medianRatio, percentile, percentiles, spread } from "./stats.js";

test("nearest-rank percentiles: p99 of 30 samples is the largest", () => {
  const thirty = Array.from({ length: 30 }, (_, i) => 30 - i);
  assert.equal(percentile(thirty, 50), 15);
  assert.equal(percentile(thirty, 99), 30);
  assert.equal(percentile([7], 99), 7);
  assert.ok(Number.isNaN(percentile([], 50)));
  assert.deepEqual(percentiles([1, 2, 3, 4]), { p50: 2, p90: 4, p99: 4, max: 4, count: 4 });
});

test("spread: min/median/max over rounds, failed (NaN) rounds left out", () => {
  assert.deepEqual(spread([3, 1, 2]), { min: 1, median: 2, max: 3, n: 3 });
  assert.deepEqual(spread([4, 1, Number.NaN, 2, 3]), { min: 1, median: 2.5, max: 4, n: 4 });
  assert.equal(spread([]).n, 0);
  assert.equal(medianRatio(spread([10]), spread([4])), 2.5);
});
