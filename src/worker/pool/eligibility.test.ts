import { test } from "node:test";
import assert from "node:assert/strict";
import { poolDecision, startupVariables } from "./eligibility.js";

test("pool eligibility: ordinary functions of nodejs20.x and python3.11 are pooled", () => {
  assert.deepEqual(poolDecision({ runtime: "nodejs20.x", userEnv: { TABLE: "t", NODEJS_THING: "x" } }), { pooled: true, kinds: ["nodejs20.x"] });
  assert.deepEqual(poolDecision({ runtime: "python3.11", userEnv: {} }), { pooled: true, kinds: ["python3.11"] });
});

test("pool eligibility: custom runtimes are not; SnapStart restores use the exec launcher, whatever their variables", () => {
  assert.deepEqual(poolDecision({ runtime: "provided.al2023", userEnv: {} }), { pooled: false, why: "runtime" });
  assert.deepEqual(poolDecision({ runtime: "nodejs20.x", userEnv: {}, snapshotId: "abc" }), { pooled: true, kinds: ["restored:abc", "snapstart"] });
  assert.deepEqual(poolDecision({ runtime: "nodejs20.x", userEnv: { NODE_OPTIONS: "--no-deprecation" }, snapshotId: "abc" }), { pooled: true, kinds: ["snapstart"] });
});

test("pool eligibility: a variable the runtime reads at process start forces a fresh spawn", () => {
  assert.deepEqual(poolDecision({ runtime: "nodejs20.x", userEnv: { NODE_OPTIONS: "--enable-source-maps", A: "1" } }), {
    pooled: false,
    why: "variables",
    variables: ["NODE_OPTIONS"],
  });
  assert.deepEqual(startupVariables("nodejs20.x", { UV_THREADPOOL_SIZE: "8", LD_PRELOAD: "/x.so", LC_ALL: "C", SSL_CERT_FILE: "/c", OPENSSL_CONF: "/o" }), [
    "LC_ALL",
    "LD_PRELOAD",
    "OPENSSL_CONF",
    "SSL_CERT_FILE",
    "UV_THREADPOOL_SIZE",
  ]);
  assert.deepEqual(startupVariables("python3.11", { PYTHONHASHSEED: "0", NODE_OPTIONS: "x", GLIBC_TUNABLES: "y" }), ["GLIBC_TUNABLES", "PYTHONHASHSEED"]);
});
