import { test } from "node:test";
import assert from "node:assert/strict";
import { EnvironmentTable } from "./table.js";

test("the worked example: LIFO reuse, cold start when none idle, keep-alive", () => {
  const t = new EnvironmentTable();
  t.addInitializing("e1", "w", "f", 0);
  t.release("e1", 0, true);
  t.addInitializing("e2", "w", "f", 5);
  t.release("e2", 5, true);
  assert.equal(t.takeIdle("f", 6)?.id, "e2");
  assert.equal(t.takeIdle("f", 7)?.id, "e1");
  assert.equal(t.takeIdle("f", 8), undefined);
  assert.equal(t.release("e2", 9, true), "idle");
  assert.deepEqual(t.expired(16, 10), []);
  assert.deepEqual(t.expired(19, 10).map((e) => e.id), ["e2"]);
  assert.equal(t.takeIdle("f", 20), undefined);
});

test("environments are never shared across configurations", () => {
  const t = new EnvironmentTable();
  t.addInitializing("e1", "w", "acct-a/f", 0);
  t.release("e1", 0, true);
  assert.equal(t.takeIdle("acct-b/f", 1), undefined);
  assert.equal(t.takeIdle("acct-a/f", 1)?.id, "e1");
});

test("draining destroys idle environments now and busy ones on release", () => {
  const t = new EnvironmentTable();
  t.addInitializing("idle1", "w", "f#1", 0);
  t.release("idle1", 0, true);
  t.addInitializing("busy1", "w", "f#1", 0);
  t.markBusy("busy1");
  t.addInitializing("other", "w", "g#1", 0);
  t.release("other", 0, true);
  assert.deepEqual(t.drain((k) => k.startsWith("f#")).map((e) => e.id), ["idle1"]);
  assert.equal(t.takeIdle("f#1", 1), undefined);
  assert.equal(t.release("busy1", 2, true), "destroy");
  assert.equal(t.size, 1);
});

test("an unhealthy environment is destroyed on release", () => {
  const t = new EnvironmentTable();
  t.addInitializing("e", "w", "f", 0);
  assert.equal(t.release("e", 1, false), "destroy");
  assert.equal(t.get("e"), undefined);
  assert.equal(t.release("e", 1, true), "unknown");
});

test("onChange sees every mutation: entry after the change, undefined once removed", () => {
  const t = new EnvironmentTable();
  const seen: Array<[string, string | undefined]> = [];
  t.onChange = (id, e) => seen.push([id, e?.state]);
  t.addInitializing("e1", "w", "f", 0);
  t.markBusy("e1");
  t.release("e1", 1, true);
  t.takeIdle("f", 2);
  t.drain((k) => k === "f");
  t.release("e1", 3, true);
  t.addInitializing("e2", "w", "g", 4, true);
  t.release("e2", 5, true);
  t.demote("e2", 6);
  t.expired(100, 10);
  assert.deepEqual(seen, [
    ["e1", "initializing"],
    ["e1", "busy"],
    ["e1", "idle"],
    ["e1", "busy"],
    ["e1", "draining"],
    ["e1", undefined],
    ["e2", "initializing"],
    ["e2", "idle"],
    ["e2", "idle"],
    ["e2", undefined],
  ]);
});

test("restore loads replayed entries: idle ones handed out most recently used first, busy ones released later", () => {
  const t = new EnvironmentTable();
  t.onChange = () => assert.fail("restore is not observed");
  t.restore([
    { id: "a", workerId: "w", configKey: "f", state: "idle", createdAt: 0, lastUsedAt: 9 },
    { id: "b", workerId: "w", configKey: "f", state: "idle", createdAt: 0, lastUsedAt: 3 },
    { id: "c", workerId: "w", configKey: "f", state: "busy", createdAt: 0, lastUsedAt: 5 },
    { id: "p", workerId: "w", configKey: "f", state: "idle", createdAt: 0, lastUsedAt: 1, provisioned: true },
  ]);
  t.onChange = undefined;
  assert.equal(t.size, 4);
  assert.equal(t.takeIdle("f", 10)?.id, "p");
  assert.equal(t.takeIdle("f", 10)?.id, "a");
  assert.equal(t.takeIdle("f", 10)?.id, "b");
  assert.equal(t.takeIdle("f", 10), undefined);
  assert.equal(t.release("c", 11, true), "idle");
  assert.equal(t.release("zz", 11, true), "unknown");
  assert.equal(t.takeIdle("f", 12)?.id, "c");
});
