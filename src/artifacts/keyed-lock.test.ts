import { test } from "node:test";
import assert from "node:assert/strict";
import { KeyedLock } from "./keyed-lock.js";

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test("work on one key runs in order, one at a time, even after a failure", async () => {
  const lock = new KeyedLock();
  const log: string[] = [];
  const step = (name: string, fail = false) => async () => {
    log.push(`start ${name}`);
    await tick();
    log.push(`end ${name}`);
    if (fail) throw new Error(name);
    return name;
  };
  const results = await Promise.allSettled([lock.run("k", step("a")), lock.run("k", step("b", true)), lock.run("k", step("c"))]);
  assert.deepEqual(log, ["start a", "end a", "start b", "end b", "start c", "end c"]);
  assert.deepEqual(
    results.map((r) => r.status),
    ["fulfilled", "rejected", "fulfilled"],
  );
});

test("different keys do not wait for each other", async () => {
  const lock = new KeyedLock();
  const log: string[] = [];
  let release!: () => void;
  const blocked = lock.run("a", () => new Promise<void>((r) => (release = r)));
  await lock.run("b", async () => log.push("b ran"));
  assert.deepEqual(log, ["b ran"]);
  release();
  await blocked;
});
