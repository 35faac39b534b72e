import { test } from "node:test";
import assert from "node:assert/strict";
import { decide, parseLeaderRecord } from "./election.js";

const base = { self: "B", leaseMs: 3000 };

test("no entry -> create with the next term", () => {
  assert.deepEqual(decide({ ...base, now: 100 }), { kind: "create", record: { nodeId: "B", term: 1, expiresAt: 3100 } });
  assert.deepEqual(decide({ ...base, now: 100, lastTerm: 4 }), { kind: "create", record: { nodeId: "B", term: 5, expiresAt: 3100 } });
});

test("the worked example: follow a live leader, take over an expired one with CAS and term + 1", () => {
  const seen = { record: { nodeId: "A", term: 1, expiresAt: 5000 }, revision: 7 };
  assert.deepEqual(decide({ ...base, now: 3000, seen }), { kind: "follow", leader: seen.record });
  assert.deepEqual(decide({ ...base, now: 5000, seen }), { kind: "takeover", revision: 7, record: { nodeId: "B", term: 2, expiresAt: 8000 } });
});

test("a leader renews at its own revision, and steps down once its lease ran out unrenewed", () => {
  const holding = { term: 3, revision: 12, expiresAt: 4000 };
  assert.deepEqual(decide({ ...base, now: 2000, holding }), { kind: "renew", revision: 12, record: { nodeId: "B", term: 3, expiresAt: 5000 } });
  assert.deepEqual(decide({ ...base, now: 4000, holding }), { kind: "step-down", reason: "lease-lost" });
});

test("an entry naming us while we do not lead (restart) is taken back with a new term", () => {
  const seen = { record: { nodeId: "B", term: 5, expiresAt: 9999 }, revision: 3 };
  assert.deepEqual(decide({ ...base, now: 10, seen }), { kind: "takeover", revision: 3, record: { nodeId: "B", term: 6, expiresAt: 3010 } });
});

test("parseLeaderRecord rejects foreign values", () => {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v));
  assert.deepEqual(parseLeaderRecord(enc({ nodeId: "A", term: 1, expiresAt: 2 })), { nodeId: "A", term: 1, expiresAt: 2 });
  assert.equal(parseLeaderRecord(enc({ nodeId: "A" })), undefined);
  assert.equal(parseLeaderRecord(Buffer.from("nope")), undefined);
});
