/** WorkerLifetime on a fake worker and a manual clock: the lease, the drain's steps, the bound. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../../base/index.js";
import type { EnvironmentSpec, InvocationOutcome } from "../../worker/index.js";
import { WorkerDrainingError } from "./errors.js";
import { WorkerLifetime } from "./lifetime.js";
import { LocalWorker, type HostWorker } from "./local.js";
import { quietLog } from "./testkit.js";

function fakeWorker() {
  const envs = new Set<string>();
  const releases = new Map<string, () => void>();
  const calls: string[] = [];
  const worker: HostWorker = {
    id: "w1",
    createEnvironment: async (id) => void envs.add(id),
    invoke: (id) =>
      new Promise<InvocationOutcome>((resolve) =>
        releases.set(id, () => resolve({ payload: Buffer.from("ok"), logTail: Buffer.alloc(0), healthy: true, durationMs: 1 })),
      ),
    destroyEnvironment: async (id) => {
      envs.delete(id);
      calls.push(`destroy ${id}`);
    },
    load: () => ({ id: "w1", state: "active", totalMemoryMB: 1000, freeMemoryMB: 1000, runningSandboxes: envs.size, cpu: 0, sandboxesOf: () => 0, sandboxesOfAccount: () => 0 }),
    environments: () => [...envs].map((id) => ({ id, sandboxId: id, configKey: "k", accountId: "a", pooled: false, pid: undefined })),
    drain: async () => void calls.push("pool stopped"),
  };
  return { worker, envs, releases, calls };
}

const spec = { memoryMB: 128 } as EnvironmentSpec;
const invocation = { requestId: "r", payload: Buffer.alloc(0), invokedArn: "arn", timeoutMs: 1000 };

function setup(leaseMs = 3_600_000) {
  const clock = new ManualClock();
  const fw = fakeWorker();
  const local = new LocalWorker(fw.worker);
  const dead: string[] = [];
  const beats: string[] = [];
  const lifetime = new WorkerLifetime({
    local,
    heartbeat: { beat: async () => void beats.push(local.state), stop: async (o) => void beats.push(o?.deregister === false ? "stopped" : "deregistered") },
    reportDead: (id) => dead.push(id),
    clock,
    log: quietLog,
    startedAt: clock.now(),
    leaseMs,
    drainWindowMs: 600_000,
    maxBusyWaitMs: 900_000,
  });
  return { clock, fw, local, dead, beats, lifetime };
}

test("the lease drains the worker at leaseEnd - drainWindow: idle reaped and reported, busy awaited, then deregistered", async () => {
  const { clock, fw, local, dead, beats, lifetime } = setup();
  await local.createEnvironment("idle-1", "k", spec);
  await local.createEnvironment("busy-1", "k", spec);
  const running = local.invoke("busy-1", invocation);
  await lifetime.tick();
  assert.equal(lifetime.status().phase, "active");
  clock.advance(3_600_000 - 600_000);
  await lifetime.tick();
  assert.equal(lifetime.status().phase, "draining");
  assert.equal(lifetime.status().drainReason, "lease");
  assert.deepEqual(beats, ["draining"], "a heartbeat tells placement at once");
  assert.deepEqual(dead, ["idle-1"]);
  assert.ok(fw.calls.includes("pool stopped"));
  await assert.rejects(local.createEnvironment("new", "k", spec), WorkerDrainingError);
  let drained = false;
  void lifetime.drained.then(() => (drained = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(drained, false, "waits for the busy environment");
  fw.releases.get("busy-1")!();
  assert.equal((await running).payload.toString(), "ok", "the busy invocation finishes normally");
  await lifetime.drained;
  assert.deepEqual(dead, ["idle-1", "busy-1"], "reaped once idle");
  assert.deepEqual(beats, ["draining", "deregistered"]);
  assert.equal(lifetime.status().phase, "drained");
  assert.deepEqual(fw.envs.size, 0);
});

test("a requested drain with a stuck invocation ends it at the bound", async () => {
  const { clock, local, dead, beats, lifetime } = setup();
  await local.createEnvironment("stuck", "k", spec);
  void local.invoke("stuck", invocation);
  lifetime.drain();
  await lifetime.tick();
  assert.equal(lifetime.status().drainReason, "requested");
  clock.advance(899_999);
  await lifetime.tick();
  assert.deepEqual(dead, []);
  clock.advance(1);
  await lifetime.tick();
  await lifetime.drained;
  assert.deepEqual(dead, ["stuck"]);
  assert.equal(beats.at(-1), "deregistered");
});
