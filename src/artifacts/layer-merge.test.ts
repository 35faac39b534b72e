import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, readFile, readlink, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { planLayerMerge, type LayerEntry } from "./layer-merge.js";
import { MergedLayers, walkLayer } from "./merged-layers.js";

const d = (path: string): LayerEntry => ({ path, kind: "dir" });
const f = (path: string): LayerEntry => ({ path, kind: "file" });

test("the worked example: directories merge, the later layer wins a file", () => {
  const plan = planLayerMerge([
    [d("bin"), f("bin/tool"), d("nodejs"), d("nodejs/node_modules"), f("nodejs/node_modules/a.js")],
    [d("bin"), f("bin/tool"), d("python"), f("python/m.py")],
  ]);
  assert.deepEqual(
    plan.map((e) => `${e.path}:${e.kind}:${e.layer}`),
    ["bin:dir:0", "bin/tool:file:1", "nodejs:dir:0", "nodejs/node_modules:dir:0", "nodejs/node_modules/a.js:file:0", "python:dir:1", "python/m.py:file:1"],
  );
});

test("a file replaces an earlier directory with everything under it, and a directory replaces an earlier file", () => {
  const plan = planLayerMerge([
    [d("lib"), f("lib/x.so"), f("etc")],
    [f("lib"), d("etc"), f("etc/conf")],
  ]);
  assert.deepEqual(
    plan.map((e) => `${e.path}:${e.kind}:${e.layer}`),
    ["etc:dir:1", "etc/conf:file:1", "lib:file:1"],
  );
});

test("parents always come before their children, even with names that sort between them", () => {
  const plan = planLayerMerge([[d("a"), f("a/z"), f("a-b"), d("a/b"), f("a/b/c")]]);
  const seen = new Set<string>();
  for (const e of plan) {
    const parent = e.path.includes("/") ? e.path.slice(0, e.path.lastIndexOf("/")) : undefined;
    if (parent !== undefined) assert.ok(seen.has(parent), `${e.path} before ${parent}`);
    seen.add(e.path);
  }
});

test("MergedLayers hard-links the layers into one tree, later layers winning; one layer is used as it is", async () => {
  const root = await mkdtemp(join(tmpdir(), "kiln-merge-"));
  try {
    const a = join(root, "a");
    const b = join(root, "b");
    await mkdir(join(a, "nodejs/node_modules/lib"), { recursive: true });
    await writeFile(join(a, "nodejs/node_modules/lib/index.js"), "A");
    await mkdir(join(a, "bin"));
    await writeFile(join(a, "bin/tool"), "A-tool", { mode: 0o755 });
    await symlink("tool", join(a, "bin/alias"));
    await mkdir(join(b, "bin"), { recursive: true });
    await writeFile(join(b, "bin/tool"), "B-tool", { mode: 0o755 });
    await mkdir(join(b, "python"));
    await writeFile(join(b, "python/m.py"), "x = 1");

    const layers = new MergedLayers(join(root, "merged"));
    assert.equal(await layers.merge([a]), a);
    const merged = await layers.merge([a, b]);
    assert.equal(await readFile(join(merged, "nodejs/node_modules/lib/index.js"), "utf8"), "A");
    assert.equal(await readFile(join(merged, "bin/tool"), "utf8"), "B-tool");
    assert.equal(await readlink(join(merged, "bin/alias")), "tool");
    assert.equal(await readFile(join(merged, "python/m.py"), "utf8"), "x = 1");
    const [linked, original] = await Promise.all([stat(join(merged, "bin/tool")), stat(join(b, "bin/tool"))]);
    assert.equal(linked.ino, original.ino, "a hard link, not a copy");
    assert.equal((await stat(join(merged, "python"))).mode & 0o777, 0o755);
    assert.equal(await layers.merge([a, b]), merged, "the same list reuses the same tree");
    assert.notEqual(await layers.merge([b, a]), merged, "order matters");
    assert.equal(await readFile(join(await layers.merge([b, a]), "bin/tool"), "utf8"), "A-tool");
    assert.deepEqual(
      (await walkLayer(merged)).map((e) => e.path),
      ["bin", "bin/alias", "bin/tool", "nodejs", "nodejs/node_modules", "nodejs/node_modules/lib", "nodejs/node_modules/lib/index.js", "python", "python/m.py"],
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
