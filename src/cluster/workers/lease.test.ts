import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_DRAIN_WINDOW_MS, DEFAULT_LEASE_MS, MAX_FUNCTION_TIMEOUT_MS, lifetimeStep, type LifetimeView } from "./lease.js";

const START = Date.UTC(2026, 0, 1, 8);
const base: LifetimeView = {
  phase: "active",
  now: START,
  leaseEndsAt: START + DEFAULT_LEASE_MS,
  drainWindowMs: DEFAULT_DRAIN_WINDOW_MS,
  drainRequested: false,
  idle: [],
  busy: 0,
  maxBusyWaitMs: MAX_FUNCTION_TIMEOUT_MS,
};
const MIN = 60_000;

test("an active worker holds until leaseEnd - drainWindow, then drains for its lease", () => {
  assert.deepEqual(lifetimeStep(base), { kind: "hold" });
  const drainAt = base.leaseEndsAt - DEFAULT_DRAIN_WINDOW_MS;
  assert.equal(new Date(drainAt).toISOString(), "2026-01-01T21:44:00.000Z");
  assert.deepEqual(lifetimeStep({ ...base, now: drainAt - 1, idle: ["a"], busy: 2 }), { kind: "hold" });
  assert.deepEqual(lifetimeStep({ ...base, now: drainAt }), { kind: "start-drain", reason: "lease" });
});

test("a requested drain starts at once", () => {
  assert.deepEqual(lifetimeStep({ ...base, drainRequested: true }), { kind: "start-drain", reason: "requested" });
});

test("draining: idle environments are reaped first, busy ones are waited for, then finish", () => {
  const draining: LifetimeView = { ...base, phase: "draining", drainStartedAt: START, now: START + MIN };
  assert.deepEqual(lifetimeStep({ ...draining, idle: ["e1", "e2"], busy: 1 }), { kind: "reap", environmentIds: ["e1", "e2"] });
  assert.deepEqual(lifetimeStep({ ...draining, busy: 1 }), { kind: "hold" });
  assert.deepEqual(lifetimeStep({ ...draining, busy: 0 }), { kind: "finish", forced: false });
});

test("busy environments are waited for at most maxBusyWaitMs after the drain started", () => {
  const draining: LifetimeView = { ...base, phase: "draining", drainStartedAt: START, busy: 1 };
  assert.deepEqual(lifetimeStep({ ...draining, now: START + MAX_FUNCTION_TIMEOUT_MS - 1 }), { kind: "hold" });
  assert.deepEqual(lifetimeStep({ ...draining, now: START + MAX_FUNCTION_TIMEOUT_MS }), { kind: "finish", forced: true });
});

test("a drained worker does nothing more", () => {
  assert.deepEqual(lifetimeStep({ ...base, phase: "drained", drainRequested: true, idle: ["x"], now: base.leaseEndsAt + 1 }), { kind: "hold" });
});
