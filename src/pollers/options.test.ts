import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError } from "../base/index.js";
import { DEFAULT_RETRY_DELAYS_MS, loadAsyncOptions } from "./options.js";

test("defaults are Lambda's; KILN_ASYNC_* override them; overrides win", () => {
  const d = loadAsyncOptions({});
  assert.deepEqual(d.retryDelaysMs, [...DEFAULT_RETRY_DELAYS_MS]);
  assert.equal(d.backoffBaseMs, 1000);
  assert.equal(d.backoffMaxMs, 300_000);
  const o = loadAsyncOptions({ KILN_ASYNC_POLLERS: "4", KILN_ASYNC_RETRY_DELAYS_MS: "100, 200", KILN_ASYNC_BACKOFF_MS: "50,400", KILN_ASYNC_LEASE_MS: "5000" }, { rescanMs: 10 });
  assert.deepEqual(o, { pollers: 4, retryDelaysMs: [100, 200], backoffBaseMs: 50, backoffMaxMs: 400, leaseMs: 5000, rescanMs: 10 });
});

test("bad values are refused with the variable's name", () => {
  assert.throws(() => loadAsyncOptions({ KILN_ASYNC_POLLERS: "0" }), (e: unknown) => e instanceof ConfigError && /KILN_ASYNC_POLLERS/.test(e.message));
  assert.throws(() => loadAsyncOptions({ KILN_ASYNC_RETRY_DELAYS_MS: "1,,2" }), ConfigError);
  assert.throws(() => loadAsyncOptions({ KILN_ASYNC_BACKOFF_MS: "500,100" }), /first <= longest/);
  assert.throws(() => loadAsyncOptions({ KILN_ASYNC_LEASE_MS: "1,2" }), ConfigError);
});
