import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../../base/index.js";
import type { WorkerRecord } from "../workers/index.js";
import { quietLog } from "../workers/testkit.js";
import { CapacityManager } from "./manager.js";
import type { CapacityProvider } from "./provider.js";

const record = (id: string, o: Partial<WorkerRecord> = {}): WorkerRecord => ({
  id, url: "http://x", roles: ["worker"], totalMemoryMB: 4096, freeMemoryMB: 3000, runningSandboxes: 2, cpu: 0.1, state: "active", sandboxes: {}, startedAt: 0, leaseEndsAt: 1, seenAt: 0, ...o,
});

test("the manager adds to the minimum, waits for joins, scales on demand and cold starts, removes on slack", async () => {
  const clock = new ManualClock();
  const started: string[] = [];
  const removed: string[] = [];
  let n = 0;
  const provider: CapacityProvider = {
    list: async () => started.filter((id) => !removed.includes(id)),
    add: async (count) => Array.from({ length: count }, () => (started.push(`w${++n}`), `w${n}`)),
    remove: async (id) => void removed.push(id),
  };
  let joined: WorkerRecord[] = [];
  let inUse = 0;
  let cold = 0;
  const m = new CapacityManager({ provider, directory: { list: () => joined.filter((r) => !removed.includes(r.id)) }, concurrencyInUse: () => inUse, coldStarts: () => cold, policy: { minWorkers: 2, maxWorkers: 5 }, clock, log: quietLog });
  assert.deepEqual(await m.tick(), { add: 2, reason: "below the minimum of 2 workers" });
  clock.advance(10_000);
  assert.ok("hold" in (await m.tick()), "the two requested are pending");
  joined = [record("w1"), record("w2")];
  clock.advance(60_000);
  inUse = 30; // 32 slots
  assert.equal(((await m.tick()) as { add: number }).add, 1);
  joined.push(record("w3"));
  clock.advance(60_000);
  inUse = 20; // 48 slots: in the band
  cold += 1; // sets the baseline
  assert.ok("hold" in (await m.tick()));
  clock.advance(60_000);
  cold += 600; // 600 per minute across 3 workers
  assert.equal(((await m.tick()) as { add: number }).add, 1);
  joined.push(record("w4", { runningSandboxes: 0 }));
  clock.advance(60_000);
  inUse = 2;
  const d = await m.tick();
  assert.deepEqual((d as { remove: string[] }).remove, ["w4"]);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(removed, ["w4"]);
});
