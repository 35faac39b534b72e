import { test } from "node:test";
import assert from "node:assert/strict";
import { parseCommandArgs, parseEnvPairs, parseIntOption, UsageError } from "./usage.js";

test("--env pairs keep '=' in values and reject missing keys", () => {
  assert.deepEqual(parseEnvPairs("deploy", ["A=1", "B=x=y", "C="]), { A: "1", B: "x=y", C: "" });
  assert.throws(() => parseEnvPairs("deploy", ["=1"]), UsageError);
  assert.throws(() => parseEnvPairs("deploy", ["NOVALUE"]), /KEY=VALUE/);
});

test("unknown options become a UsageError naming the option and the command", () => {
  assert.throws(
    () => parseCommandArgs("deploy", ["--nmae", "x"], { name: { type: "string" } }),
    (e: unknown) => e instanceof UsageError && e.command === "deploy" && /--nmae/.test(e.message) && !/To specify/.test(e.message),
  );
  assert.equal(parseCommandArgs("deploy", ["--help"], { name: { type: "string" } }).help, true);
});

test("integer options", () => {
  assert.equal(parseIntOption("deploy", "--memory", "256"), 256);
  assert.equal(parseIntOption("deploy", "--memory", undefined), undefined);
  assert.throws(() => parseIntOption("deploy", "--memory", "1.5"), /--memory must be a whole number/);
});
