import { test } from "node:test";
import assert from "node:assert/strict";
import { toUrlResponse } from "./function-url-response.js";

const r = (v: unknown, err?: string) => toUrlResponse(Buffer.from(typeof v === "string" && err === "raw" ? v : JSON.stringify(v)), err === "raw" ? undefined : err);

test("a structured result: status, headers, cookies as Set-Cookie, body", () => {
  const out = r({ statusCode: 201, headers: { "X-A": "1", "x-n": 5 }, cookies: ["s=1; Path=/", "t=2"], body: "made" });
  assert.equal(out.statusCode, 201);
  assert.deepEqual(out.headers, [["x-a", "1"], ["x-n", "5"], ["set-cookie", "s=1; Path=/"], ["set-cookie", "t=2"]]);
  assert.equal(out.body.toString(), "made");
});

test("isBase64Encoded bodies are decoded; a missing body is empty", () => {
  assert.deepEqual([...r({ statusCode: 200, body: "AAEC/w==", isBase64Encoded: true }).body], [0, 1, 2, 255]);
  assert.equal(r({ statusCode: 204 }).body.length, 0);
});

test("the shortcut: any other result is 200 application/json, a string result sent as its text", () => {
  const s = r("Hello (world)!");
  assert.equal(s.statusCode, 200);
  assert.deepEqual(s.headers, [["content-type", "application/json"]]);
  assert.equal(s.body.toString(), "Hello (world)!");
  assert.equal(r({ message: "hi" }).body.toString(), '{"message":"hi"}');
  assert.equal(r([1, 2]).body.toString(), "[1,2]");
  assert.equal(r(42).body.toString(), "42");
});

test("function errors and malformed structured results are 502", () => {
  assert.equal(r({ errorMessage: "boom" }, "Unhandled").statusCode, 502);
  assert.equal(r({ statusCode: "teapot" }).statusCode, 502);
  assert.equal(r({ statusCode: 999 }).statusCode, 502);
  assert.equal(r({ statusCode: 200, headers: ["x"] }).statusCode, 502);
  assert.equal(r("not json", "raw").statusCode, 502);
  assert.equal(r({ statusCode: "404" }).statusCode, 404);
});
