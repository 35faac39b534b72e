import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleForSnapshot } from "./bundle.js";

const SNAPSHOT_MAIN = fileURLToPath(new URL("../../../../src/runtimes/nodejs/snapshot-main.mjs", import.meta.url));

async function pkg(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "kiln-bundle-"));
  for (const [p, content] of Object.entries(files)) {
    await mkdir(join(dir, p, ".."), { recursive: true });
    await writeFile(join(dir, p), content);
  }
  return dir;
}

test("bundle: the handler, its node_modules and the snapshot runtime become one file that keeps sandbox paths", async () => {
  const dir = await pkg({
    "index.mjs": 'import { greet } from "greeter"; export const handler = async () => greet(import.meta.url);',
    "node_modules/greeter/package.json": '{"name":"greeter","main":"lib/index.js"}',
    "node_modules/greeter/lib/index.js": '"use strict";\nconst fs = require("fs");\nexports.greet = (u) => u + " " + require("path").join(__dirname, "words.txt");',
  });
  try {
    const r = await bundleForSnapshot({ codeDir: dir, layersDir: undefined, handlerFile: "index.mjs", handler: "index.handler", snapshotMain: SNAPSHOT_MAIN });
    assert.ok(r.ok, JSON.stringify(r));
    assert.match(r.code, /"file:\/\/\/var\/task\/index\.mjs"/);
    assert.match(r.code, /var __dirname = "\/var\/task\/node_modules\/greeter\/lib"/);
    assert.match(r.code, /setDeserializeMainFunction/);
    assert.doesNotMatch(r.code, /^\s*(import|export) /m, "CommonJS only");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("bundle: native addons, run-time loads and unbundlable code rule a snapshot out, with the reason", async () => {
  const cases: Array<[Record<string, string>, string, RegExp]> = [
    [{ "index.js": "exports.handler = async () => 1;", "node_modules/x/x.node": "bin" }, "NativeAddon", /node_modules\/x\/x\.node/],
    [{ "index.js": "exports.handler = async (e) => require(e.name);" }, "DynamicImport", /require\(<expression>\)/],
    [{ "index.js": "exports.handler = async (e) => import(e.path);" }, "DynamicImport", /import\(\)/],
    [{ "index.js": "const m = require('not-installed'); exports.handler = async () => m;" }, "BundleFailed", /Could not resolve "not-installed"/],
    [{ "index.mjs": "const v = await Promise.resolve(1); export const handler = async () => v;" }, "BundleFailed", /[Tt]op-level await/],
  ];
  for (const [files, code, reason] of cases) {
    const dir = await pkg(files);
    try {
      const handlerFile = Object.keys(files).find((f) => f.startsWith("index."))!;
      const r = await bundleForSnapshot({ codeDir: dir, layersDir: undefined, handlerFile, handler: "index.handler", snapshotMain: SNAPSHOT_MAIN });
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.equal(r.code, code, r.reason);
        assert.match(r.reason, reason);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
});
