/**
 * Interoperability with Info-ZIP's /usr/bin/zip, which is how most Lambda packages are made:
 * modes and `zip -y` symlinks survive extraction; `zip -y` links out of the package are refused.
 * Skipped where the binary is missing.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, lstat, mkdir, readFile, readlink, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { extractZip } from "./extract.js";
import { kilnError, listing, scratchDir } from "./scratch.test-support.js";

const ZIP = "/usr/bin/zip";
const skip = existsSync(ZIP) ? false : `${ZIP} is not installed`;
const run = promisify(execFile);

/** Zips the contents of `dir` with Info-ZIP (recursive, quiet, plus `flags`). */
async function infoZip(dir: string, flags: string[]): Promise<Buffer> {
  const out = join(dir, "..", `${Date.now()}-${Math.random().toString(16).slice(2)}.zip`);
  await run(ZIP, ["-q", "-r", ...flags, out, "."], { cwd: dir });
  return readFile(out);
}

async function customRuntimeTree(root: string): Promise<void> {
  await mkdir(join(root, "lib"), { recursive: true });
  await mkdir(join(root, "node_modules/.bin"), { recursive: true });
  await mkdir(join(root, "node_modules/tool"), { recursive: true });
  await mkdir(join(root, "empty"));
  await writeFile(join(root, "bootstrap"), "#!/bin/sh\necho ok\n");
  await chmod(join(root, "bootstrap"), 0o755);
  await writeFile(join(root, "handler.sh"), "handler() { echo; }\n");
  await chmod(join(root, "handler.sh"), 0o600);
  await writeFile(join(root, "lib/libfoo.so.1"), "ELF");
  await symlink("libfoo.so.1", join(root, "lib/libfoo.so"));
  await writeFile(join(root, "node_modules/tool/cli.js"), "#!/usr/bin/env node\n");
  await chmod(join(root, "node_modules/tool/cli.js"), 0o755);
  await symlink("../tool/cli.js", join(root, "node_modules/.bin/tool"));
}

test("a custom runtime zipped with `zip -r -y` keeps its modes and symlinks", { skip }, async () => {
  const work = await scratchDir();
  const tree = join(work, "tree");
  await customRuntimeTree(tree);
  const zip = await infoZip(tree, ["-y"]);
  const dest = join(work, "code");
  const result = await extractZip(zip, dest);

  assert.equal(result.files, 6);
  assert.equal((await lstat(join(dest, "bootstrap"))).mode & 0o777, 0o755);
  assert.equal((await lstat(join(dest, "handler.sh"))).mode & 0o777, 0o644);
  assert.equal((await lstat(join(dest, "node_modules/tool/cli.js"))).mode & 0o777, 0o755);
  assert.equal((await lstat(join(dest, "empty"))).mode & 0o777, 0o755);
  assert.equal(await readlink(join(dest, "lib/libfoo.so")), "libfoo.so.1");
  assert.equal(await readlink(join(dest, "node_modules/.bin/tool")), "../tool/cli.js");
  assert.equal(await readFile(join(dest, "bootstrap"), "utf8"), "#!/bin/sh\necho ok\n");
  const { stdout } = await run(join(dest, "bootstrap"));
  assert.equal(stdout, "ok\n", "bootstrap is executable");
});

test("without -y, zip stores link targets as files, which extract as files", { skip }, async () => {
  const work = await scratchDir();
  const tree = join(work, "tree");
  await customRuntimeTree(tree);
  const dest = join(work, "code");
  await extractZip(await infoZip(tree, []), dest);
  assert.ok((await lstat(join(dest, "lib/libfoo.so"))).isFile());
  assert.equal(await readFile(join(dest, "lib/libfoo.so"), "utf8"), "ELF");
});

test("`zip -y` symlinks to /etc or out of the package are refused", { skip }, async () => {
  for (const [target, message] of [
    ["/etc", /"etc" is not allowed: it is a symlink to "\/etc", an absolute path/],
    ["../../..", /"up" is not allowed: it is a symlink to "\.\.\/\.\.\/\.\.", which points outside/],
  ] as const) {
    const work = await scratchDir();
    const tree = join(work, "tree");
    await mkdir(tree);
    await writeFile(join(tree, "index.js"), "");
    await symlink(target, join(tree, target === "/etc" ? "etc" : "up"));
    const zip = await infoZip(tree, ["-y"]);
    const before = await listing(work);
    await assert.rejects(extractZip(zip, join(work, "code")), kilnError("InvalidParameterValueException", message));
    assert.deepEqual(await listing(work), before);
  }
});
