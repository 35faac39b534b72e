import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_CAPACITY_POLICY, decide, type CapacitySignals, type CapacityWorker } from "./decide.js";

const NOW = 1_000_000;
const policy = { ...DEFAULT_CAPACITY_POLICY, minWorkers: 1, maxWorkers: 10 };
const worker = (id: string, o: Partial<CapacityWorker> = {}): CapacityWorker => ({ id, state: "active", totalMemoryMB: 4096, freeMemoryMB: 3000, runningSandboxes: 4, startedAt: 0, ...o });
const signals = (o: Partial<CapacitySignals>): CapacitySignals => ({ now: NOW, workers: [], pending: 0, concurrencyInUse: 0, coldStartsPerMinute: 0, ...o });
const three = [worker("w1"), worker("w2"), worker("w3")];

const table: Array<[string, CapacitySignals, typeof policy, { add?: number; remove?: string[]; hold?: true }]> = [
  ["no workers -> add up to the minimum", signals({}), { ...policy, minWorkers: 2 }, { add: 2 }],
  ["pending counts toward the minimum", signals({ pending: 1 }), { ...policy, minWorkers: 2 }, { add: 1 }],
  ["draining workers are not capacity", signals({ workers: [worker("w1", { state: "draining" })] }), policy, { add: 1 }],
  ["above the maximum -> remove the least loaded", signals({ workers: [worker("w1"), worker("w2", { runningSandboxes: 1 }), worker("w3")] }), { ...policy, maxWorkers: 2 }, { remove: ["w2"] }],
  ["worked example: 40 in flight on 48 slots -> add 1", signals({ workers: three, concurrencyInUse: 40 }), policy, { add: 1 }],
  ["far over -> add several, capped by maxStep", signals({ workers: three, concurrencyInUse: 200 }), policy, { add: 2 }],
  ["over, but near the maximum -> capped by it", signals({ workers: three, concurrencyInUse: 200 }), { ...policy, maxWorkers: 4, maxStep: 5 }, { add: 1 }],
  ["over, at the maximum -> hold", signals({ workers: three, concurrencyInUse: 200 }), { ...policy, maxWorkers: 3 }, { hold: true }],
  ["low free memory -> add 1", signals({ workers: three.map((w) => ({ ...w, freeMemoryMB: 400 })), concurrencyInUse: 10 }), policy, { add: 1 }],
  ["many cold starts per worker -> add 1", signals({ workers: three, concurrencyInUse: 10, coldStartsPerMinute: 200 }), policy, { add: 1 }],
  ["pressure while workers are pending -> hold", signals({ workers: three, concurrencyInUse: 40, pending: 1 }), policy, { hold: true }],
  ["pressure in the cool-down -> hold", signals({ workers: three, concurrencyInUse: 40, lastChangeAt: NOW - 59_999 }), policy, { hold: true }],
  ["pressure after the cool-down -> add", signals({ workers: three, concurrencyInUse: 40, lastChangeAt: NOW - 60_000 }), policy, { add: 1 }],
  ["in the band -> hold", signals({ workers: three, concurrencyInUse: 24 }), policy, { hold: true }],
  [
    "slack -> remove the emptiest (ties: most free memory, then the oldest)",
    signals({ workers: [worker("w1", { runningSandboxes: 2, startedAt: 5 }), worker("w2", { runningSandboxes: 2, startedAt: 1 }), worker("w3", { runningSandboxes: 2, freeMemoryMB: 2000 })], concurrencyInUse: 6 }),
    policy,
    { remove: ["w2"] },
  ],
  ["slack but at the minimum -> hold", signals({ workers: [worker("w1")], concurrencyInUse: 0 }), policy, { hold: true }],
  ["slack but cold starts not quiet -> hold", signals({ workers: three, concurrencyInUse: 6, coldStartsPerMinute: 60 }), policy, { hold: true }],
  ["low use, but removing one would push utilization past the band's middle -> hold", signals({ workers: [worker("w1"), worker("w2")], concurrencyInUse: 9 }), policy, { hold: true }],
];

for (const [name, s, p, expected] of table) {
  test(`decide: ${name}`, () => {
    const d = decide(s, p);
    const { reason, ...rest } = d as { reason: string };
    assert.equal(typeof reason, "string");
    assert.deepEqual(rest, expected, reason);
  });
}
