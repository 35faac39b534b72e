import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock, createLogger } from "../base/index.js";
import { AssignmentService, ScalingThrottledError, type WorkerFleet } from "./service.js";

interface FakeSpec {
  tag: string;
}

/** One worker with room for everything; environment creation resolves when the test says so. */
function fakeFleet() {
  const created: Array<{ id: string; spec: FakeSpec; done: (ok: boolean) => void }> = [];
  const destroyed: string[] = [];
  const fleet: WorkerFleet<FakeSpec> = {
    loads: () => [{ id: "w", state: "active", totalMemoryMB: 1_000_000, freeMemoryMB: 1_000_000, runningSandboxes: 0, cpu: 0, sandboxesOf: () => 0, sandboxesOfAccount: () => 0 }],
    createEnvironment: (_w, id, spec) =>
      new Promise<void>((resolve, reject) => created.push({ id, spec, done: (ok) => (ok ? resolve() : reject(new Error("init failed"))) })),
    destroyEnvironment: async (_w, id) => {
      destroyed.push(id);
    },
  };
  return { fleet, created, destroyed };
}

const tick = () => new Promise((r) => setImmediate(r));

test("a cold start waits for the scaling rate; warm environments never ask it", async () => {
  const { fleet, created } = fakeFleet();
  const clock = new ManualClock();
  const s = new AssignmentService<FakeSpec>({ fleet, clock, keepAliveMs: 60_000, log: createLogger("t", "error") });
  await assert.rejects(s.acquire("k", 128, () => ({ tag: "x" }), () => false), ScalingThrottledError);
  assert.equal(created.length, 0, "no environment was created");
  const lease = s.acquire("k", 128, () => ({ tag: "x" }), () => true);
  await tick();
  created[0]!.done(true);
  s.release(await lease, true);
  let asked = false;
  const warm = await s.acquire("k", 128, () => ({ tag: "x" }), () => ((asked = true), false));
  assert.equal(warm.cold, false);
  assert.equal(asked, false, "a warm environment does not use the scaling rate");
});

test("provisioned environments: created and counted when initialized, used first, never reaped, replaced when they break, demoted when unset", async () => {
  const { fleet, created, destroyed } = fakeFleet();
  const clock = new ManualClock();
  const s = new AssignmentService<FakeSpec>({ fleet, clock, keepAliveMs: 1000, log: createLogger("t", "error") });

  // An on-demand environment exists first, idle.
  const od = s.acquire("k", 128, () => ({ tag: "on-demand" }));
  await tick();
  created[0]!.done(true);
  const odLease = await od;
  s.release(odLease, true);

  s.setProvisioned("k", { count: 2, memoryMB: 128, spec: () => ({ tag: "provisioned" }) });
  assert.equal(created.length, 3);
  assert.deepEqual(s.provisionedStatus("k"), { target: 2, allocated: 0, status: "IN_PROGRESS" });
  created[1]!.done(true);
  await tick();
  await tick();
  assert.deepEqual(s.provisionedStatus("k"), { target: 2, allocated: 1, status: "IN_PROGRESS" });
  created[2]!.done(false);
  await tick();
  await tick();
  assert.equal(s.provisionedStatus("k").status, "FAILED");
  assert.match(s.provisionedStatus("k").reason ?? "", /init failed/);

  s.setProvisioned("k", { count: 2, memoryMB: 128, spec: () => ({ tag: "provisioned" }) });
  assert.equal(created.length, 4, "setting the target again retries the missing one");
  created[3]!.done(true);
  await tick();
  await tick();
  assert.deepEqual(s.provisionedStatus("k"), { target: 2, allocated: 2, status: "READY" });

  const first = await s.acquire("k", 128, () => ({ tag: "cold" }));
  const second = await s.acquire("k", 128, () => ({ tag: "cold" }));
  const third = await s.acquire("k", 128, () => ({ tag: "cold" }));
  assert.ok(s.table.get(first.environmentId)?.provisioned && s.table.get(second.environmentId)?.provisioned, "provisioned ones first");
  assert.equal(third.environmentId, odLease.environmentId, "then the on-demand one");
  s.release(third, true);
  s.release(second, true);

  clock.advance(5000);
  assert.equal(await s.reap(), 1, "only the on-demand environment is reaped");
  assert.deepEqual(destroyed, [odLease.environmentId]);

  s.release(first, false);
  assert.equal(created.length, 5, "a broken provisioned environment is replaced at once");
  created[4]!.done(true);
  await tick();
  await tick();
  assert.equal(s.provisionedStatus("k").allocated, 2);

  s.setProvisioned("k", undefined);
  assert.equal(s.table.provisionedOf("k").idle.length, 0, "unset: the environments become on-demand ones");
  clock.advance(5000);
  assert.equal(await s.reap(), 2, "and the keep-alive reaps them");
});

test("lowering the target destroys idle provisioned environments", async () => {
  const { fleet, created, destroyed } = fakeFleet();
  const s = new AssignmentService<FakeSpec>({ fleet, clock: new ManualClock(), keepAliveMs: 1000, log: createLogger("t", "error") });
  s.setProvisioned("k", { count: 3, memoryMB: 128, spec: () => ({ tag: "p" }) });
  for (const c of created) c.done(true);
  await tick();
  await tick();
  assert.equal(s.provisionedStatus("k").allocated, 3);
  s.setProvisioned("k", { count: 1, memoryMB: 128, spec: () => ({ tag: "p" }) });
  assert.equal(destroyed.length, 2);
  assert.deepEqual(s.provisionedStatus("k"), { target: 1, allocated: 1, status: "READY" });
});

test("concurrent cold starts spread over the workers although their heartbeats have not caught up", async () => {
  const placedOn: string[] = [];
  const stale = (id: string) => ({ id, state: "active" as const, totalMemoryMB: 10_000, freeMemoryMB: 10_000, runningSandboxes: 0, cpu: 0, sandboxesOf: () => 0, sandboxesOfAccount: () => 0 });
  const fleet: WorkerFleet<FakeSpec> = {
    loads: () => [stale("w1"), stale("w2"), stale("w3")],
    createEnvironment: async (w) => void placedOn.push(w),
    destroyEnvironment: async () => undefined,
  };
  const s = new AssignmentService<FakeSpec>({ fleet, clock: new ManualClock(), keepAliveMs: 60_000, log: createLogger("t", "error") });
  await Promise.all(Array.from({ length: 6 }, () => s.acquire("acct/f/$LATEST/1", 128, () => ({ tag: "x" }))));
  const per = new Map<string, number>();
  for (const w of placedOn) per.set(w, (per.get(w) ?? 0) + 1);
  assert.deepEqual([...per.entries()].sort(), [["w1", 2], ["w2", 2], ["w3", 2]]);
});

test("a cold start on a worker found gone is placed again on another one; other failures are not retried", async () => {
  const tried: string[] = [];
  const load = (id: string) => ({ id, state: "active" as const, totalMemoryMB: 10_000, freeMemoryMB: id === "dead" ? 9_000 : 10_000, runningSandboxes: 0, cpu: 0, sandboxesOf: () => 0, sandboxesOfAccount: () => 0 });
  let initFails = false;
  const fleet: WorkerFleet<FakeSpec> = {
    loads: () => [load("dead"), load("alive")],
    createEnvironment: async (w) => {
      tried.push(w);
      if (w === "dead") throw Object.assign(new Error("worker dead was lost"), { retryable: true });
      if (initFails) throw new Error("init failed");
    },
    destroyEnvironment: async () => undefined,
  };
  const s = new AssignmentService<FakeSpec>({ fleet, clock: new ManualClock(), keepAliveMs: 60_000, log: createLogger("t", "error") });
  const lease = await s.acquire("acct/f/$LATEST/1", 128, () => ({ tag: "x" }));
  assert.deepEqual(tried, ["dead", "alive"], "best fit chose the dead worker first, then the other");
  assert.equal(lease.workerId, "alive");
  assert.equal(s.table.size, 1, "the failed attempt left no entry");
  initFails = true;
  tried.length = 0;
  await assert.rejects(s.acquire("acct/f/$LATEST/1", 128, () => ({ tag: "x" })), /init failed/);
  assert.deepEqual(tried, ["dead", "alive"], "the function's own init failure on alive ends the acquire: no third worker");
});
