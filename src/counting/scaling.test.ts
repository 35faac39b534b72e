import { test } from "node:test";
import assert from "node:assert/strict";
import { ScalingLimiter, refill, takeToken } from "./scaling.js";

test("the worked example: 1,000 at once, then one every 10 ms, never more than 1,000", () => {
  let now = 0;
  const limiter = new ScalingLimiter(() => now);
  for (let i = 0; i < 1000; i++) assert.ok(limiter.tryScaleUp("acct/f"), `cold start ${i}`);
  assert.equal(limiter.tryScaleUp("acct/f"), false, "the 1,001st in the same instant is throttled");
  assert.ok(limiter.tryScaleUp("acct/g"), "another function has its own bucket");
  now = 9;
  assert.equal(limiter.tryScaleUp("acct/f"), false, "0.9 of a token is not a token");
  now = 10;
  assert.ok(limiter.tryScaleUp("acct/f"), "one token after 10 ms");
  assert.equal(limiter.tryScaleUp("acct/f"), false);
  now = 60;
  let n = 0;
  while (limiter.tryScaleUp("acct/f")) n++;
  assert.equal(n, 5, "five tokens in the next 50 ms");
  now = 60 + 3_600_000;
  n = 0;
  while (limiter.tryScaleUp("acct/f")) n++;
  assert.equal(n, 1000, "an hour idle refills to the burst, not beyond");
});

test("refill and takeToken are pure", () => {
  const b = { tokens: 0, at: 100 };
  assert.deepEqual(refill(b, 100, 1000, 10_000), b);
  assert.deepEqual(refill(b, 50, 1000, 10_000), b, "a clock going backwards adds nothing");
  assert.deepEqual(refill(b, 5100, 1000, 10_000), { tokens: 500, at: 5100 });
  assert.deepEqual(takeToken(undefined, 7, 2, 10), { bucket: { tokens: 1, at: 7 }, ok: true });
  assert.deepEqual(takeToken({ tokens: 0.5, at: 0 }, 0, 2, 10), { bucket: { tokens: 0.5, at: 0 }, ok: false });
});
