import { test } from "node:test";
import assert from "node:assert/strict";
import { afterAttempt, backoffMs, beforeAttempt, type ErrorHandling, type RetryPolicy } from "./retry.js";

const AWS: RetryPolicy = { retryDelaysMs: [60_000, 120_000], backoffBaseMs: 1000, backoffMaxMs: 300_000 };
const DEFAULTS: ErrorHandling = { maximumRetryAttempts: 2, maximumEventAgeMs: 21_600_000 };
const T0 = 1_767_225_600_000;

test("function errors: two retries about 1 and 2 minutes apart, then RetriesExhausted with 3 invokes", () => {
  let p = { receivedAt: T0, attempts: 0, backoffs: 0 };
  let now = T0;
  const d1 = afterAttempt(p, "function-error", DEFAULTS, AWS, now);
  assert.deepEqual(d1, { action: "retry", at: T0 + 60_000, attempts: 1, backoffs: 0, counter: "retries" });
  p = { ...p, attempts: 1 };
  now = T0 + 60_000;
  const d2 = afterAttempt(p, "function-error", DEFAULTS, AWS, now);
  assert.deepEqual(d2, { action: "retry", at: T0 + 180_000, attempts: 2, backoffs: 0, counter: "retries" });
  p = { ...p, attempts: 2 };
  assert.deepEqual(afterAttempt(p, "function-error", DEFAULTS, AWS, T0 + 180_000), { action: "fail", condition: "RetriesExhausted", attempts: 3 });
});

test("MaximumRetryAttempts 0 fails after the first error; success acks and counts the attempt", () => {
  const p = { receivedAt: T0, attempts: 0, backoffs: 0 };
  assert.deepEqual(afterAttempt(p, "function-error", { ...DEFAULTS, maximumRetryAttempts: 0 }, AWS, T0), { action: "fail", condition: "RetriesExhausted", attempts: 1 });
  assert.deepEqual(afterAttempt({ ...p, attempts: 1 }, "success", DEFAULTS, AWS, T0), { action: "ack", attempts: 2 });
});

test("throttles and platform errors back off 1 s, 2 s, 4 s ... up to 5 minutes, without counting attempts", () => {
  assert.deepEqual([0, 1, 2, 3, 8, 9, 50].map((k) => backoffMs(k, AWS)), [1000, 2000, 4000, 8000, 256_000, 300_000, 300_000]);
  const p = { receivedAt: T0, attempts: 1, backoffs: 3 };
  assert.deepEqual(afterAttempt(p, "throttled", DEFAULTS, AWS, T0 + 10), { action: "retry", at: T0 + 10 + 8000, attempts: 1, backoffs: 4, counter: "throttles" });
  assert.deepEqual(afterAttempt(p, "platform-error", DEFAULTS, AWS, T0), { action: "retry", at: T0 + 8000, attempts: 1, backoffs: 4, counter: "platformErrors" });
  // After a success or function error the backoff starts over.
  assert.equal((afterAttempt(p, "function-error", DEFAULTS, AWS, T0) as { backoffs: number }).backoffs, 0);
});

test("max event age: expired events fail before running; late retries are parked at the expiry", () => {
  const h = { maximumRetryAttempts: 2, maximumEventAgeMs: 60_000 };
  const p = { receivedAt: T0, attempts: 1, backoffs: 0 };
  assert.deepEqual(beforeAttempt(p, h, T0 + 59_999), { action: "run" });
  assert.deepEqual(beforeAttempt(p, h, T0 + 60_000), { action: "fail", condition: "EventAgeExceeded", attempts: 1 });
  // The retry would be at +70 s, past the expiry at +60 s: parked at +60 s, where it fails.
  const d = afterAttempt({ ...p, attempts: 0 }, "function-error", h, { ...AWS, retryDelaysMs: [60_000] }, T0 + 10_000);
  assert.deepEqual(d, { action: "retry", at: T0 + 60_000, attempts: 1, backoffs: 0, counter: "retries" });
  assert.equal(beforeAttempt({ ...p }, h, (d as { at: number }).at).action, "fail");
  // Throttled after the expiry: fails now, with the attempts it had.
  assert.deepEqual(afterAttempt(p, "throttled", h, AWS, T0 + 61_000), { action: "fail", condition: "EventAgeExceeded", attempts: 1 });
});

test("a deleted function or an impossible request drops the event", () => {
  const p = { receivedAt: T0, attempts: 0, backoffs: 2 };
  assert.deepEqual(afterAttempt(p, "gone", DEFAULTS, AWS, T0), { action: "drop", reason: "FunctionNotFound", attempts: 0 });
  assert.deepEqual(afterAttempt(p, "rejected", DEFAULTS, AWS, T0), { action: "drop", reason: "Rejected", attempts: 0 });
});

test("the last configured retry delay repeats", () => {
  const p = { receivedAt: T0, attempts: 2, backoffs: 0 };
  const d = afterAttempt(p, "function-error", { ...DEFAULTS, maximumRetryAttempts: 5 }, { ...AWS, retryDelaysMs: [100] }, T0);
  assert.deepEqual(d, { action: "retry", at: T0 + 100, attempts: 3, backoffs: 0, counter: "retries" });
});
