import { test } from "node:test";
import assert from "node:assert/strict";
import { score, scoreTerms } from "./score.js";
import { workerLoad } from "./testing.js";

const req = { configKey: "A/f/1/r", accountId: "A", memoryMB: 128 };

test("the worked example: an extra sandbox of f costs less than a hot CPU", () => {
  const x = workerLoad("x", { freeMemoryMB: 1024, cpu: 0.2, sandboxes: { "A/f/1/r": 1, "A/g/1/r": 3 } });
  const y = workerLoad("y", { freeMemoryMB: 3000, cpu: 0.9, sandboxes: { "A/h/1/r": 2 }, otherSandboxes: 8 });
  assert.deepEqual(scoreTerms(req, x), { spread: 1, heat: 0, correlation: 0.75, slack: 896 / 4096 });
  const ty = scoreTerms(req, y);
  assert.equal(ty.spread, 0);
  assert.ok(Math.abs(ty.heat - 0.5) < 1e-12);
  assert.equal(ty.correlation, 0.2);
  assert.equal(ty.slack, 2872 / 4096);
  assert.equal(score(scoreTerms(req, x)).toFixed(3), "1.859");
  assert.equal(score(ty).toFixed(2), "2.05");
});

test("terms stay in range: cpu clamped, below the threshold no heat, an empty worker has no correlation", () => {
  const t = scoreTerms(req, workerLoad("z", { cpu: 7 }));
  assert.deepEqual(t, { spread: 0, heat: 1, correlation: 0, slack: 3968 / 4096 });
  assert.equal(scoreTerms(req, workerLoad("z", { cpu: 0.8 })).heat, 0);
  assert.equal(scoreTerms(req, workerLoad("z", { cpu: 0.9 }), 1).heat, 0);
});
