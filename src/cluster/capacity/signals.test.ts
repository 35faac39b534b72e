import { test } from "node:test";
import assert from "node:assert/strict";
import type { WorkerRecord } from "../workers/index.js";
import { concurrencyInUse, CreationTally } from "./signals.js";

const record = (id: string, o: Partial<WorkerRecord> = {}): WorkerRecord => ({
  id, url: "http://x", roles: ["worker"], totalMemoryMB: 4096, freeMemoryMB: 3000, runningSandboxes: 4, cpu: 0.1, state: "active", sandboxes: {}, startedAt: 0, leaseEndsAt: 1, seenAt: 0, ...o,
});

test("concurrency in use: busy environments across workers (draining ones too); sandboxes for workers that do not say", () => {
  assert.equal(concurrencyInUse([]), 0);
  assert.equal(concurrencyInUse([record("w1", { busy: 2 }), record("w2", { busy: 0 }), record("w3", { busy: 3, state: "draining" })]), 5);
  assert.equal(concurrencyInUse([record("w1", { busy: 1 }), record("old", { runningSandboxes: 4 })]), 5);
});

test("creation tally: the worked example; a counter that restarts or a returning worker is not counted twice", () => {
  const t = new CreationTally();
  assert.equal(t.observe([record("w1", { environmentsCreated: 5 })]), 5);
  assert.equal(t.observe([record("w1", { environmentsCreated: 8 }), record("w2", { environmentsCreated: 2 })]), 10);
  assert.equal(t.observe([record("w2", { environmentsCreated: 4 })]), 12);
  assert.equal(t.observe([record("w1", { environmentsCreated: 8 }), record("w2", { environmentsCreated: 4 })]), 12, "w1 back with the same count");
  assert.equal(t.observe([record("w2", { environmentsCreated: 1 })]), 12, "w2 restarted under the same id");
  assert.equal(t.observe([record("w2", { environmentsCreated: 3 }), record("old")]), 14);
  assert.equal(t.total, 14);
});
