import { test } from "node:test";
import assert from "node:assert/strict";
import { ConcurrencyLedger, admit } from "./ledger.js";

test("admit throttles at the account limit", () => {
  assert.deepEqual(admit({ accountInFlight: 0, accountLimit: 1 }), { admitted: true });
  assert.deepEqual(admit({ accountInFlight: 1, accountLimit: 1 }), { admitted: false, reason: "ConcurrentInvocationLimitExceeded" });
});

test("ledger counts per account, releases once, and frees the slot for the next caller", () => {
  const ledger = new ConcurrencyLedger(() => 2);
  const a = ledger.tryAcquire("acct", "f");
  const b = ledger.tryAcquire("acct", "g");
  assert.ok("slot" in a && "slot" in b);
  assert.deepEqual(ledger.tryAcquire("acct", "f"), { reason: "ConcurrentInvocationLimitExceeded" });
  assert.ok("slot" in ledger.tryAcquire("other", "other/f"), "another account has its own limit");
  ledger.release(a.slot);
  ledger.release(a.slot);
  assert.equal(ledger.inFlight("acct"), 1);
  assert.equal(ledger.functionInFlight("f"), 0);
  assert.ok("slot" in ledger.tryAcquire("acct", "f"));
});
