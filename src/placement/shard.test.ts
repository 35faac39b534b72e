import { test } from "node:test";
import assert from "node:assert/strict";
import { accountOf, functionKeyOf, rendezvousOrder, shardOf, shardSize } from "./shard.js";
import { randomFunctionKeys, workerIds } from "./testing.js";

test("the worked example: thumbnail's shard, and who moves when w2 goes", () => {
  const ws = workerIds(6);
  assert.deepEqual(rendezvousOrder("111122223333/thumbnail", ws), ["w6", "w5", "w2", "w1", "w4", "w3"]);
  assert.deepEqual(shardOf("111122223333/thumbnail", ws, 3), ["w6", "w5", "w2"]);
  const without = ws.filter((w) => w !== "w2");
  assert.deepEqual(shardOf("111122223333/thumbnail", without, 3), ["w6", "w5", "w1"]);
  assert.deepEqual(rendezvousOrder("111122223333/billing", ws).slice(0, 4), ["w6", "w1", "w4", "w2"]);
  assert.deepEqual(shardOf("111122223333/billing", ws, 3), ["w6", "w1", "w4"]);
  assert.deepEqual(shardOf("111122223333/billing", without, 3), ["w6", "w1", "w4"]);
});

test("shards are stable: same key, same shard, whatever the order the workers are listed in", () => {
  const ws = workerIds(50);
  const shuffled = [...ws].reverse();
  for (const key of randomFunctionKeys(500, 7)) {
    const s = shardOf(key, ws, 4);
    assert.equal(s.length, 4);
    assert.equal(new Set(s).size, 4);
    assert.deepEqual(shardOf(key, ws, 4), s);
    assert.deepEqual(shardOf(key, shuffled, 4), s);
    assert.deepEqual(rendezvousOrder(key, ws).slice(0, 4), s);
  }
});

test("removing a worker changes only the shards that held it, each taking its next-ranked worker", () => {
  const ws = workerIds(20);
  const gone = "w7";
  const rest = ws.filter((w) => w !== gone);
  let moved = 0;
  for (const key of randomFunctionKeys(2000, 11)) {
    const before = shardOf(key, ws, 4);
    const after = shardOf(key, rest, 4);
    if (!before.includes(gone)) {
      assert.deepEqual(after, before, key);
      continue;
    }
    moved++;
    assert.deepEqual(after.slice(0, 3), before.filter((w) => w !== gone), key);
    assert.equal(after[3], rendezvousOrder(key, ws)[4], key);
  }
  // 4 of 20 workers per shard: about a fifth of the functions held w7.
  assert.ok(moved > 300 && moved < 500, `moved ${moved}`);
});

test("adding a worker changes only the shards that now rank it among their first k", () => {
  const ws = workerIds(20);
  const grown = [...ws, "w21"];
  for (const key of randomFunctionKeys(2000, 13)) {
    const before = shardOf(key, ws, 4);
    const after = shardOf(key, grown, 4);
    if (!after.includes("w21")) assert.deepEqual(after, before, key);
    else assert.deepEqual(after.filter((w) => w !== "w21"), before.slice(0, 3), key);
  }
});

test("every worker gets about its share of shard slots", () => {
  const ws = workerIds(10);
  const slots = new Map<string, number>();
  for (const key of randomFunctionKeys(10_000, 17)) for (const w of shardOf(key, ws, 2)) slots.set(w, (slots.get(w) ?? 0) + 1);
  for (const w of ws) {
    const share = (slots.get(w) ?? 0) / 20_000;
    assert.ok(Math.abs(share - 0.1) < 0.01, `${w}: ${share}`);
  }
});

test("k is capped at n and at least 1; keys come from configKeys", () => {
  assert.equal(shardSize(3), 3);
  assert.equal(shardSize(100), 4);
  assert.equal(shardSize(100, 0), 1);
  assert.equal(shardSize(0), 0);
  assert.deepEqual(shardOf("a/f", ["x", "y"], 4).sort(), ["x", "y"]);
  assert.deepEqual(shardOf("a/f", [], 4), []);
  assert.equal(functionKeyOf("111122223333/thumbnail/3/r1"), "111122223333/thumbnail");
  assert.equal(functionKeyOf("111122223333/thumbnail"), "111122223333/thumbnail");
  assert.equal(functionKeyOf("k"), "k");
  assert.equal(accountOf("111122223333/thumbnail/3/r1"), "111122223333");
  assert.equal(accountOf("k"), "k");
});
