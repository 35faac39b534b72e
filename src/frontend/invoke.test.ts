import { test } from "node:test";
import assert from "node:assert/strict";
import { normalizePayload } from "./invoke.js";
import { KilnError } from "../base/index.js";

test("payloads must be JSON; empty means {}", () => {
  assert.equal(normalizePayload(Buffer.alloc(0)).toString(), "{}");
  assert.equal(normalizePayload(Buffer.from('{"a":1}')).toString(), '{"a":1}');
  assert.equal(normalizePayload(Buffer.from('"str"')).toString(), '"str"');
  for (const bad of [Buffer.from("{nope"), Buffer.from([0xff, 0xfe])]) {
    assert.throws(() => normalizePayload(bad), (e: unknown) => e instanceof KilnError && e.code === "InvalidRequestContentException");
  }
});
