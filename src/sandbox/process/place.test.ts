import { test } from "node:test";
import assert from "node:assert/strict";
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, symlink, writeFile, chmod } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { placeLayers, placeTree } from "./place.js";

async function scratch(): Promise<string> {
  return mkdtemp(join(tmpdir(), "kiln-place-"));
}

test("place: a code tree is hard-linked file by file, with directory modes and symlinks kept", async () => {
  const root = await scratch();
  try {
    const src = join(root, "code");
    await mkdir(join(src, "lib", "deep"), { recursive: true });
    await writeFile(join(src, "index.js"), "exports.handler = 1");
    await writeFile(join(src, "lib", "deep", "run.sh"), "#!/bin/sh", { mode: 0o755 });
    await chmod(join(src, "lib", "deep", "run.sh"), 0o755);
    await chmod(join(src, "lib"), 0o750);
    await symlink("lib/deep/run.sh", join(src, "run"));
    const dst = join(root, "task");
    await mkdir(dst);
    const placed = await placeTree(src, dst);
    assert.deepEqual(placed, { files: 3, copied: 0 });
    assert.deepEqual((await readdir(dst)).sort(), ["index.js", "lib", "run"]);
    assert.equal((await stat(join(dst, "index.js"))).ino, (await stat(join(src, "index.js"))).ino, "the same inode: a hard link");
    assert.equal((await stat(join(dst, "lib", "deep", "run.sh"))).mode & 0o777, 0o755);
    assert.equal((await stat(join(dst, "lib"))).mode & 0o777, 0o750);
    assert.ok((await lstat(join(dst, "run"))).isSymbolicLink());
    assert.equal(await readlink(join(dst, "run")), "lib/deep/run.sh");
    assert.equal(await readFile(join(dst, "run"), "utf8"), "#!/bin/sh");
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test("place: layers merge at the top level, later layers win, as a fresh jail binds them", async () => {
  const root = await scratch();
  try {
    const l1 = join(root, "l1");
    const l2 = join(root, "l2");
    await mkdir(join(l1, "nodejs"), { recursive: true });
    await mkdir(join(l1, "bin"), { recursive: true });
    await mkdir(join(l2, "nodejs"), { recursive: true });
    await writeFile(join(l1, "nodejs", "a.js"), "l1");
    await writeFile(join(l1, "bin", "tool"), "l1 tool");
    await writeFile(join(l2, "nodejs", "b.js"), "l2");
    const opt = join(root, "opt");
    await mkdir(opt);
    await placeLayers(
      [
        { dir: l1, entries: ["bin", "nodejs"] },
        { dir: l2, entries: ["nodejs"] },
      ],
      opt,
    );
    assert.deepEqual((await readdir(opt)).sort(), ["bin", "nodejs"]);
    assert.deepEqual(await readdir(join(opt, "nodejs")), ["b.js"], "l2's nodejs hides l1's whole");
    assert.equal(await readFile(join(opt, "bin", "tool"), "utf8"), "l1 tool");
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
