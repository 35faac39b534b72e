import { test } from "node:test";
import assert from "node:assert/strict";
import { KilnError } from "../base/index.js";
import { checkProvisionedConcurrency, checkReservedConcurrency, unreservedConcurrency } from "./concurrency.js";

const refused = (f: () => void, message: string) =>
  assert.throws(f, (e: unknown) => e instanceof KilnError && e.code === "InvalidParameterValueException" && e.message === message, message);
const BELOW = "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].";

test("the worked example: allocations, the 100 floor, provisioned inside a reservation", () => {
  const f = { reserved: 300, provisioned: 0 };
  const g = { provisioned: 50 };
  assert.equal(unreservedConcurrency(1000, [f]), 700);
  assert.equal(unreservedConcurrency(1000, [f, g]), 650);
  refused(() => checkReservedConcurrency(1000, [f, g], 600, 0), BELOW);
  checkReservedConcurrency(1000, [f, g], 550, 0);
  checkProvisionedConcurrency(1000, [g], { reserved: 300, provisionedElsewhere: 0 }, 200);
  refused(
    () => checkProvisionedConcurrency(1000, [g], { reserved: 300, provisionedElsewhere: 0 }, 400),
    "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function",
  );
  refused(
    () => checkProvisionedConcurrency(1000, [g], { reserved: 300, provisionedElsewhere: 200 }, 101),
    "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function",
  );
});

test("reservations: 0 is allowed, the floor counts every other function, provisioned must fit", () => {
  checkReservedConcurrency(1000, [], 0, 0);
  checkReservedConcurrency(1000, [], 900, 0);
  refused(() => checkReservedConcurrency(1000, [], 901, 0), BELOW);
  refused(() => checkReservedConcurrency(1000, [{ provisioned: 1 }], 900, 0), BELOW);
  refused(() => checkReservedConcurrency(1000, [], 5, 10), " ReservedConcurrentExecutions  5 should not be lower than function's total provisioned concurrency [10].");
});

test("provisioned concurrency without a reservation comes out of the unreserved pool", () => {
  checkProvisionedConcurrency(1000, [], { provisionedElsewhere: 0 }, 900);
  refused(
    () => checkProvisionedConcurrency(1000, [], { provisionedElsewhere: 0 }, 901),
    "Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].",
  );
  refused(() => checkProvisionedConcurrency(1000, [{ reserved: 100, provisioned: 0 }], { provisionedElsewhere: 0 }, 901), "Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [900].");
});
