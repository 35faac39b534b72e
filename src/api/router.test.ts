import { test } from "node:test";
import assert from "node:assert/strict";
import { Router } from "./router.js";

test("matches methods and captures decoded segments; trailing slash tolerated", () => {
  const r = new Router<string>().add("GET", "/2015-03-31/functions", "list").add("GET", "/2015-03-31/functions/{fn}", "get").add("POST", "/2015-03-31/functions/{fn}/invocations", "invoke");
  assert.deepEqual(r.match("GET", "/2015-03-31/functions/"), { handler: "list", params: {} });
  assert.deepEqual(r.match("GET", "/2015-03-31/functions/my%3Aq"), { handler: "get", params: { fn: "my:q" } });
  assert.deepEqual(r.match("POST", "/2015-03-31/functions/f/invocations"), { handler: "invoke", params: { fn: "f" } });
  assert.equal(r.match("DELETE", "/2015-03-31/functions/f/invocations"), "method");
  assert.equal(r.match("GET", "/nope"), undefined);
  assert.equal(r.match("GET", "/2015-03-31/functions/%E0%A4%A"), undefined);
});
