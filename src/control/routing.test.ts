import { test } from "node:test";
import assert from "node:assert/strict";
import { KilnError } from "../base/index.js";
import { checkRouting, parseRoutingConfig, routesToAdditional } from "./routing.js";

const fails = (f: () => unknown, code: string, message: string) =>
  assert.throws(f, (e: unknown) => e instanceof KilnError && e.code === code && e.message === message, message);

test("AWS's routing checks, in AWS's order, with AWS's messages", () => {
  assert.deepEqual(checkRouting("1", { "2": 0.3 }), { version: "2", weight: 0.3 });
  assert.deepEqual(checkRouting("1", { "2": 0 }), { version: "2", weight: 0 });
  assert.deepEqual(checkRouting("1", { "2": 1 }), { version: "2", weight: 1 });
  assert.equal(checkRouting("1", {}), undefined);
  fails(() => checkRouting("1", { "2": 0.1, "3": 0.2 }), "InvalidParameterValueException", "Number of items in AdditionalVersionWeights cannot be greater than 1");
  const range = (v: string) =>
    `1 validation error detected: Value '{2=${v}}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]`;
  fails(() => checkRouting("1", { "2": 1.5 }), "ValidationException", range("1.5"));
  fails(() => checkRouting("1", { "2": -0.1 }), "ValidationException", range("-0.1"));
  fails(() => checkRouting("1", { "2": 2 }), "ValidationException", range("2.0"));
  fails(() => checkRouting("1", { "1": 0.5 }), "InvalidParameterValueException", "Invalid function version 1. Function version 1 is already included in routing configuration.");
  fails(() => checkRouting("$LATEST", { "2": 0.5 }), "InvalidParameterValueException", "$LATEST is not supported for an alias pointing to more than 1 version");
  fails(
    () => checkRouting("1", { live: 0.5 }),
    "ValidationException",
    "1 validation error detected: Value '{live=0.5}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+, Member must not be null]",
  );
  assert.equal(parseRoutingConfig(undefined), undefined);
  assert.equal(parseRoutingConfig({}), undefined);
  assert.equal(parseRoutingConfig({ AdditionalVersionWeights: {} }), undefined);
  assert.deepEqual(parseRoutingConfig({ AdditionalVersionWeights: { "2": 0.5 } }), { "2": 0.5 });
});

test("the worked example: draws below the weight run the additional version", () => {
  const draws = [0.12, 0.57, 0.29, 0.3];
  const picks = draws.map((r) => (routesToAdditional(0.3, () => r) ? "2" : "1"));
  assert.deepEqual(picks, ["2", "1", "2", "1"]);
  assert.equal(routesToAdditional(0, () => 0), false, "weight 0 never routes");
  assert.equal(routesToAdditional(1, () => 0.999999), true, "weight 1 always routes");
});

test("over many seeded draws the additional version gets its weight's share", () => {
  // mulberry32: a small deterministic PRNG, so the test never flakes.
  let seed = 42;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (const w of [0.05, 0.3, 0.5, 0.9]) {
    let n = 0;
    for (let i = 0; i < 20_000; i++) if (routesToAdditional(w, random)) n++;
    assert.ok(Math.abs(n / 20_000 - w) < 0.015, `weight ${w}: share ${n / 20_000}`);
  }
});
