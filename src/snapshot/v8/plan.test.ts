import { test } from "node:test";
import assert from "node:assert/strict";
import { isBuiltin } from "node:module";
import { buildFailureReason, dynamicLoads, handlerCandidates, pinModulePaths, prologueEnd, sandboxPathOf, unsupportedRuntimeReason, unverifiedBuiltins } from "./plan.js";

test("snapshot plan: only nodejs runtimes can have a snapshot; the others say why", () => {
  assert.equal(unsupportedRuntimeReason("nodejs20.x"), undefined);
  assert.match(unsupportedRuntimeReason("python3.11") ?? "", /CPython has no startup-snapshot mechanism/);
  assert.match(unsupportedRuntimeReason("provided.al2023") ?? "", /OS-only runtimes/);
});

test("snapshot plan: the handler's module is looked for as the nodejs runtime looks for it", () => {
  assert.deepEqual(handlerCandidates("index.handler"), ["index", "index.js", "index.mjs", "index.cjs"]);
  assert.deepEqual(handlerCandidates("src/app.api.handler"), ["src/app", "src/app.js", "src/app.mjs", "src/app.cjs"]);
  assert.deepEqual(handlerCandidates("../escape.handler"), []);
  assert.deepEqual(handlerCandidates("nodot"), []);
  assert.deepEqual(handlerCandidates("index."), []);
});

test("snapshot plan: bundled files keep their sandbox paths", () => {
  const roots = [
    { host: "/data/code/unpacked/abc", sandbox: "/var/task" },
    { host: "/data/layers-merged/l1", sandbox: "/opt" },
  ];
  assert.equal(sandboxPathOf("/data/code/unpacked/abc/lib/x.js", roots), "/var/task/lib/x.js");
  assert.equal(sandboxPathOf("/data/layers-merged/l1/nodejs/node_modules/m/index.js", roots), "/opt/nodejs/node_modules/m/index.js");
  assert.equal(sandboxPathOf("/data/code/unpacked/abcd/x.js", roots), undefined);
  assert.equal(sandboxPathOf("/data/runtimes/nodejs/runtime.mjs", roots), undefined);

  const esm = pinModulePaths("const u = import.meta.url; const d = import.meta.dirname, f = import.meta.filename;", "/var/task/lib/x.mjs");
  assert.equal(esm, 'const u = "file:///var/task/lib/x.mjs"; const d = "/var/task/lib", f = "/var/task/lib/x.mjs";');
  const cjs = pinModulePaths('#!/usr/bin/env node\n// a comment\n"use strict";\nconst p = require("path").join(__dirname, "data.json");', "/var/task/x.js");
  assert.equal(cjs, '#!/usr/bin/env node\n// a comment\n"use strict";\nvar __dirname = "/var/task", __filename = "/var/task/x.js";\nconst p = require("path").join(__dirname, "data.json");', "declared after the directive prologue, so strict mode stays");
  assert.equal(pinModulePaths("module.exports = 1;", "/var/task/y.js"), "module.exports = 1;");
  assert.equal(prologueEnd("'use strict'; x"), 14);
  assert.equal(prologueEnd("x = 1"), 0);
});

test("snapshot plan: module loads left to run time are found, literal built-ins are not", () => {
  const builtin = (n: string) => isBuiltin(n);
  assert.deepEqual(dynamicLoads('var a=require("node:fs"),b=require("crypto");x.require("y");', builtin), []);
  const found = dynamicLoads('var a=require(name);var b=import("./x.js");var c=require.resolve("z");var d=require("./not-bundled")', builtin);
  assert.equal(found.length, 4);
  assert.ok(found.some((f) => f.startsWith("require(<expression>)")));
  assert.ok(found.some((f) => f.startsWith("import()")));
  assert.ok(found.some((f) => f.startsWith("require.resolve")));
  assert.ok(found.some((f) => f.startsWith('require("./not-bundled")')));
});

test("snapshot plan: a failed build's output becomes the reason", () => {
  const warn = '(node:7) Warning: It\'s not yet fully verified whether built-in module "node:http" works in user snapshot builder scripts.\nIt may still work in some cases, but ...\nTypeError: methods.toSorted is not a function';
  assert.deepEqual(unverifiedBuiltins(warn), ["http"]);
  const http = buildFailureReason(warn, 70, null, false, 120_000);
  assert.equal(http.code, "BuildFailed");
  assert.match(http.reason, /loads node:http during init/);
  assert.doesNotMatch(http.reason, /not yet fully verified/);
  assert.deepEqual(buildFailureReason("Error: boom", 70, null, false, 1000), { code: "InitFailed", reason: "the function's init failed: Error: boom" });
  assert.match(buildFailureReason("", null, null, true, 120_000).reason, /did not finish within 120 s/);
  assert.match(buildFailureReason("", null, "SIGKILL", false, 1000).reason, /out of memory/);
  assert.equal(buildFailureReason("global handle not serialized: 0x1", null, "SIGTRAP", false, 1000).code, "BuildFailed");
});
