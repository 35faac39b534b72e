import { test } from "node:test";
import assert from "node:assert/strict";
import { applyCors, isPreflight, preflightHeaders } from "./cors.js";

const cors = { AllowOrigins: ["https://app.example"], AllowMethods: ["GET", "POST"], AllowHeaders: ["content-type", "x-custom"], ExposeHeaders: ["x-result"], MaxAge: 600 };

test("a preflight from an allowed origin for an allowed method gets the allow headers", () => {
  const h = { origin: "https://app.example", "access-control-request-method": "post" };
  assert.ok(isPreflight("OPTIONS", h));
  assert.ok(!isPreflight("GET", h));
  assert.ok(!isPreflight("OPTIONS", { origin: "https://app.example" }));
  assert.deepEqual(preflightHeaders(cors, h), [
    ["access-control-allow-origin", "https://app.example"],
    ["vary", "origin"],
    ["access-control-allow-methods", "GET,POST"],
    ["access-control-allow-headers", "content-type,x-custom"],
    ["access-control-max-age", "600"],
  ]);
});

test("a preflight from another origin, or for another method, gets none", () => {
  assert.deepEqual(preflightHeaders(cors, { origin: "https://evil.example", "access-control-request-method": "GET" }), []);
  assert.deepEqual(preflightHeaders(cors, { origin: "https://app.example", "access-control-request-method": "DELETE" }), []);
});

test("wildcards: '*' origin answers '*', or echoes the origin when credentials are allowed", () => {
  assert.deepEqual(preflightHeaders({ AllowOrigins: ["*"], AllowMethods: ["*"] }, { origin: "https://x.example", "access-control-request-method": "PUT" }), [
    ["access-control-allow-origin", "*"],
    ["access-control-allow-methods", "*"],
  ]);
  assert.deepEqual(applyCors({ AllowOrigins: ["*"], AllowCredentials: true }, "https://x.example", []), [
    ["access-control-allow-origin", "https://x.example"],
    ["vary", "origin"],
    ["access-control-allow-credentials", "true"],
  ]);
});

test("actual responses: the function's own Access-Control-* headers are replaced", () => {
  const fromFunction: Array<[string, string]> = [["content-type", "text/plain"], ["Access-Control-Allow-Origin", "*"]];
  assert.deepEqual(applyCors(cors, "https://app.example", fromFunction), [
    ["content-type", "text/plain"],
    ["access-control-allow-origin", "https://app.example"],
    ["vary", "origin"],
    ["access-control-expose-headers", "x-result"],
  ]);
  assert.deepEqual(applyCors(cors, "https://evil.example", fromFunction), [["content-type", "text/plain"]]);
  assert.deepEqual(applyCors(cors, undefined, fromFunction), [["content-type", "text/plain"]]);
});
