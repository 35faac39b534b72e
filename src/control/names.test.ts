import { test } from "node:test";
import assert from "node:assert/strict";
import { effectiveQualifier, parseFunctionRef } from "./names.js";
import { KilnError } from "../base/index.js";

test("parses every function name form", () => {
  assert.deepEqual(parseFunctionRef("my-fn"), { name: "my-fn" });
  assert.deepEqual(parseFunctionRef("my-fn:prod"), { name: "my-fn", qualifier: "prod" });
  assert.deepEqual(parseFunctionRef("my-fn:$LATEST"), { name: "my-fn", qualifier: "$LATEST" });
  assert.deepEqual(parseFunctionRef("123456789012:function:my-fn"), { name: "my-fn", accountId: "123456789012" });
  assert.deepEqual(parseFunctionRef("arn:aws:lambda:us-east-1:123456789012:function:my-fn:7"), {
    name: "my-fn",
    qualifier: "7",
    accountId: "123456789012",
    region: "us-east-1",
  });
});

test("rejects malformed names with a ValidationException", () => {
  for (const bad of ["", "a b", "x".repeat(65), "arn:aws:lambda:us-east-1:function:f", "f:q:r", "../etc"]) {
    assert.throws(() => parseFunctionRef(bad), (e: unknown) => e instanceof KilnError && e.code === "ValidationException", bad);
  }
});

test("qualifier from the name must match the Qualifier parameter", () => {
  assert.equal(effectiveQualifier({ name: "f", qualifier: "1" }, "1"), "1");
  assert.equal(effectiveQualifier({ name: "f" }, "2"), "2");
  assert.equal(effectiveQualifier({ name: "f", qualifier: "3" }, undefined), "3");
  assert.throws(() => effectiveQualifier({ name: "f", qualifier: "1" }, "2"), /derived qualifier/);
});
