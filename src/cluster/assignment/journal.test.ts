import { test } from "node:test";
import assert from "node:assert/strict";
import { applyJournal, emptyPartitionState, environmentSubject, parseJournalSubject, targetSubject } from "./journal.js";
import type { EnvironmentEntry } from "../../assignment/index.js";

const entry = (id: string, state: EnvironmentEntry["state"]): EnvironmentEntry => ({ id, workerId: "w1", configKey: "1/f/$LATEST/x", state, createdAt: 0, lastUsedAt: 0 });

test("subjects round-trip, configuration keys with dots and slashes included", () => {
  assert.equal(environmentSubject(3, "abc"), "kiln.assign.journal.3.abc");
  assert.deepEqual(parseJournalSubject(3, "kiln.assign.journal.3.abc"), { kind: "environment", id: "abc" });
  const k = "1/f.x/$LATEST/sha.256";
  assert.doesNotMatch(targetSubject(3, k).slice("kiln.assign.journal.3.target.".length), /[.*>\s]/);
  assert.deepEqual(parseJournalSubject(3, targetSubject(3, k)), { kind: "target", configKey: k });
  assert.equal(parseJournalSubject(4, "kiln.assign.journal.3.abc"), undefined);
  assert.equal(parseJournalSubject(3, "kiln.assign.journal.3.a.b"), undefined);
});

test("the worked example: latest state wins, removal leaves a tombstone, older terms are ignored", () => {
  const s = emptyPartitionState<string>();
  const subj = environmentSubject(0, "e1");
  assert.ok(applyJournal(s, 0, subj, { term: 2, entry: entry("e1", "initializing") }));
  assert.ok(applyJournal(s, 0, subj, { term: 2, entry: entry("e1", "idle") }));
  assert.equal(s.entries.get("e1")?.state, "idle");
  assert.equal(applyJournal(s, 0, subj, { term: 1, entry: entry("e1", "busy") }), false);
  assert.equal(s.entries.get("e1")?.state, "idle");
  assert.ok(applyJournal(s, 0, subj, { term: 3, entry: null }));
  assert.equal(s.entries.size, 0);
  assert.deepEqual([...s.tombstones], [subj]);
  assert.equal(s.term, 3);
});

test("provisioned targets are journaled and cleared", () => {
  const s = emptyPartitionState<string>();
  const subj = targetSubject(0, "1/f/2/x");
  applyJournal(s, 0, subj, { term: 1, target: { count: 2, memoryMB: 128, spec: "S" } });
  assert.deepEqual(s.targets.get("1/f/2/x"), { count: 2, memoryMB: 128, spec: "S" });
  applyJournal(s, 0, subj, { term: 1, target: null });
  assert.equal(s.targets.size, 0);
  assert.ok(s.tombstones.has(subj));
});
