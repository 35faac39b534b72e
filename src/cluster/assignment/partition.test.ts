import { test } from "node:test";
import assert from "node:assert/strict";
import { fnv1a, functionKeyOf, partitionOf, partitionOfConfig, partitionsOfScope } from "./partition.js";

test("functionKeyOf keeps account and name", () => {
  assert.equal(functionKeyOf("123/f/$LATEST/abc"), "123/f");
  assert.equal(functionKeyOf("123/f/7/sha"), "123/f");
  assert.equal(functionKeyOf("123/f"), "123/f");
});

test("fnv1a matches the reference values", () => {
  assert.equal(fnv1a(""), 0x811c9dc5);
  assert.equal(fnv1a("a"), 0xe40c292c);
  assert.equal(fnv1a("foobar"), 0xbf9cf968);
});

test("every configuration of a function lands on one partition; keys spread over partitions", () => {
  for (let i = 0; i < 50; i++) {
    const p = partitionOfConfig(`000000000000/f${i}/$LATEST/x`, 8);
    assert.equal(partitionOfConfig(`000000000000/f${i}/3/y`, 8), p);
    assert.equal(partitionOf(`000000000000/f${i}`, 8), p);
  }
  const used = new Set(Array.from({ length: 200 }, (_, i) => partitionOf(`acct/fn-${i}`, 8)));
  assert.equal(used.size, 8);
  assert.equal(partitionOf("anything", 1), 0);
  assert.throws(() => partitionOf("x", 0), RangeError);
});

test("drain scopes: a function prefix -> its partition; anything broader -> all", () => {
  assert.deepEqual(partitionsOfScope("1/f/", 4), [partitionOf("1/f", 4)]);
  assert.deepEqual(partitionsOfScope("1/f/$LATEST/", 4), [partitionOf("1/f", 4)]);
  assert.deepEqual(partitionsOfScope("1/", 4), [0, 1, 2, 3]);
});
