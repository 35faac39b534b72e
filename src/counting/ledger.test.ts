import { test } from "node:test";
import assert from "node:assert/strict";
import { ConcurrencyLedger, admit } from "./ledger.js";

test("admit throttles at the account limit", () => {
  assert.deepEqual(admit({ accountInFlight: 0, accountLimit: 1 }), { admitted: true, fromPool: true });
  assert.deepEqual(admit({ accountInFlight: 1, accountLimit: 1 }), { admitted: false, reason: "ConcurrentInvocationLimitExceeded" });
});

test("admit: a reservation caps the function and never touches the pool; 0 throttles everything", () => {
  const reserved = { accountInFlight: 500, accountLimit: 1000, poolInUse: 900, poolSize: 900 };
  assert.deepEqual(admit({ ...reserved, reserved: 2, functionInFlight: 1 }), { admitted: true, fromPool: false });
  assert.deepEqual(admit({ ...reserved, reserved: 2, functionInFlight: 2 }), { admitted: false, reason: "ReservedFunctionConcurrentInvocationLimitExceeded" });
  assert.deepEqual(admit({ ...reserved, reserved: 0, functionInFlight: 0 }), { admitted: false, reason: "ReservedFunctionConcurrentInvocationLimitExceeded" });
});

test("admit: provisioned share first, then the pool", () => {
  const s = { accountInFlight: 10, accountLimit: 1000, provisioned: 3, poolSize: 997 };
  assert.deepEqual(admit({ ...s, functionInFlight: 2, poolInUse: 997 }), { admitted: true, fromPool: false }, "within the provisioned share even with a full pool");
  assert.deepEqual(admit({ ...s, functionInFlight: 3, poolInUse: 996 }), { admitted: true, fromPool: true });
  assert.deepEqual(admit({ ...s, functionInFlight: 3, poolInUse: 997 }), { admitted: false, reason: "ConcurrentInvocationLimitExceeded" });
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

test("the worked example: reservations shrink the pool for everyone else", () => {
  const ledger = new ConcurrencyLedger(() => 5);
  ledger.setAllocation("acct", "acct/f", { reserved: 2, provisioned: 0 });
  const f1 = ledger.tryAcquire("acct", "acct/f");
  const f2 = ledger.tryAcquire("acct", "acct/f");
  assert.ok("slot" in f1 && "slot" in f2);
  assert.deepEqual(ledger.tryAcquire("acct", "acct/f"), { reason: "ReservedFunctionConcurrentInvocationLimitExceeded" });
  const others = [1, 2, 3].map(() => ledger.tryAcquire("acct", "acct/g"));
  assert.ok(others.every((o) => "slot" in o), "the pool holds 5 - 2 = 3");
  assert.deepEqual(ledger.tryAcquire("acct", "acct/h"), { reason: "ConcurrentInvocationLimitExceeded" });
  ledger.release(f1.slot);
  assert.deepEqual(ledger.tryAcquire("acct", "acct/h"), { reason: "ConcurrentInvocationLimitExceeded" }, "f's free place is f's alone");
  assert.ok("slot" in ledger.tryAcquire("acct", "acct/f"));

  ledger.setAllocation("acct", "acct/f", { reserved: 0, provisioned: 0 });
  assert.deepEqual(ledger.tryAcquire("acct", "acct/f"), { reason: "ReservedFunctionConcurrentInvocationLimitExceeded" }, "0 throttles every invoke");
  ledger.setAllocation("acct", "acct/f", undefined);
  for (const o of others) if ("slot" in o) ledger.release(o.slot);
  assert.ok("slot" in ledger.tryAcquire("acct", "acct/f"), "without a reservation f draws from the pool again");
});
