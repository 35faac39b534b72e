import { test } from "node:test";
import assert from "node:assert/strict";
import { functionUrlAddress, urlTarget } from "./function-url-gateway.js";

const id = "abcdefghijklmnopqrstuvwxyz012345";

test("the Host form routes by the Host header, any suffix, and keeps the path", () => {
  assert.deepEqual(urlTarget(`${id}.lambda-url.us-east-1.localhost:9900`, "/a/b"), { urlId: id, rawPath: "/a/b" });
  assert.deepEqual(urlTarget(`${id.toUpperCase()}.LAMBDA-URL.us-east-1.example.com`, "/"), { urlId: id, rawPath: "/" });
  assert.equal(urlTarget("127.0.0.1:9900", "/2015-03-31/functions"), undefined);
  assert.equal(urlTarget(`short.lambda-url.us-east-1.localhost`, "/"), undefined);
});

test("the path form strips /lambda-url/<url-id>", () => {
  assert.deepEqual(urlTarget("127.0.0.1:9900", `/lambda-url/${id}/x/y`), { urlId: id, rawPath: "/x/y" });
  assert.deepEqual(urlTarget("127.0.0.1:9900", `/lambda-url/${id}`), { urlId: id, rawPath: "/" });
  assert.deepEqual(urlTarget(undefined, `/lambda-url/${id}/`), { urlId: id, rawPath: "/" });
  assert.equal(urlTarget("127.0.0.1:9900", "/lambda-url/nope/x"), undefined);
});

test("the FunctionUrl Kiln reports", () => {
  assert.equal(functionUrlAddress(id, "us-east-1", 9900), `http://${id}.lambda-url.us-east-1.localhost:9900/`);
});
