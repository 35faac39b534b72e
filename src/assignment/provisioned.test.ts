import { test } from "node:test";
import assert from "node:assert/strict";
import { provisionedPlan, provisionedStatus } from "./provisioned.js";

const none = { initializing: 0, idle: [], busy: [] };

test("the worked example: create the shortfall, count the ones on their way, retire idle before busy", () => {
  assert.deepEqual(provisionedPlan(3, none), { create: 3, destroy: [], demote: [] });
  assert.deepEqual(provisionedPlan(3, { initializing: 1, idle: ["e1", "e2"], busy: [] }), { create: 0, destroy: [], demote: [] });
  assert.deepEqual(provisionedPlan(3, { initializing: 0, idle: ["e1"], busy: ["e2"] }), { create: 1, destroy: [], demote: [] });
  assert.deepEqual(provisionedPlan(1, { initializing: 0, idle: ["e1", "e3"], busy: ["e2"] }), { create: 0, destroy: ["e1", "e3"], demote: [] });
  assert.deepEqual(provisionedPlan(0, { initializing: 0, idle: ["e1"], busy: ["e2", "e4"] }), { create: 0, destroy: ["e1"], demote: ["e2", "e4"] });
  assert.deepEqual(provisionedPlan(0, { initializing: 2, idle: [], busy: [] }), { create: 0, destroy: [], demote: [] }, "initializing ones finish first");
});

test("status: allocated counts initialized environments only", () => {
  assert.deepEqual(provisionedStatus(2, none, undefined), { allocated: 0, status: "IN_PROGRESS" });
  assert.deepEqual(provisionedStatus(2, { initializing: 1, idle: ["a"], busy: [] }, undefined), { allocated: 1, status: "IN_PROGRESS" });
  assert.deepEqual(provisionedStatus(2, { initializing: 0, idle: ["a"], busy: ["b"] }, undefined), { allocated: 2, status: "READY" });
  assert.deepEqual(provisionedStatus(2, { initializing: 0, idle: ["a"], busy: [] }, "init failed"), { allocated: 1, status: "FAILED" });
  assert.deepEqual(provisionedStatus(2, { initializing: 0, idle: ["a", "b"], busy: [] }, "old failure"), { allocated: 2, status: "READY" });
});
