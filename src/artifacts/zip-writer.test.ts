import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, lstat, mkdir, readFile, readlink, symlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { KilnError } from "../base/index.js";
import { codeSha256, codeSha256ToHex, hexToCodeSha256 } from "./code-sha256.js";
import { extractZip } from "./extract.js";
import { listing, scratchDir } from "./scratch.test-support.js";
import { zipDirectory, zipFiles } from "./zip-writer.js";

const run = promisify(execFile);

test("codeSha256 is the base64 SHA-256 of the zip bytes; hex round-trips", () => {
  // sha256("") is e3b0c442...b855
  assert.equal(codeSha256(Buffer.alloc(0)), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
  assert.equal(codeSha256ToHex("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(hexToCodeSha256("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
  for (const bad of ["", "../../etc/passwd", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=", "47DEQpj8HBSa-_TImW+5JCeuQeRkm5NMpJWZG3hSuFU="]) {
    assert.throws(() => codeSha256ToHex(bad), (e: unknown) => e instanceof KilnError && e.code === "InvalidParameterValueException", bad);
  }
});

test("zipFiles is deterministic whatever the key order", async () => {
  const a = await zipFiles({ "b.txt": "b", "a/x.js": { data: "x", mode: 0o755 }, "l": { data: "a/x.js", mode: 0o120777 } });
  const b = await zipFiles({ l: { data: "a/x.js", mode: 0o120777 }, "a/x.js": { data: "x", mode: 0o755 }, "b.txt": Buffer.from("b") });
  assert.equal(codeSha256(a), codeSha256(b));
  assert.ok(a.equals(b));
});

test("zipFiles refuses names yazl cannot write", async () => {
  await assert.rejects(zipFiles({ "../x": "x" }), /invalid relative path/);
});

async function projectTree(root: string): Promise<void> {
  await mkdir(join(root, "src/empty"), { recursive: true });
  await mkdir(join(root, ".git/objects"), { recursive: true });
  await mkdir(join(root, "node_modules/.cache/babel"), { recursive: true });
  await mkdir(join(root, "node_modules/dep/node_modules/.cache"), { recursive: true });
  await mkdir(join(root, "node_modules/.bin"), { recursive: true });
  await writeFile(join(root, ".git/HEAD"), "ref: refs/heads/main\n");
  await writeFile(join(root, "node_modules/.cache/babel/x.json"), "{}");
  await writeFile(join(root, "node_modules/dep/node_modules/.cache/y"), "y");
  await writeFile(join(root, "node_modules/dep/index.js"), "module.exports = 1;");
  await writeFile(join(root, "node_modules/dep/cli.js"), "#!/usr/bin/env node");
  await chmod(join(root, "node_modules/dep/cli.js"), 0o775);
  await symlink("../dep/cli.js", join(root, "node_modules/.bin/dep"));
  await writeFile(join(root, "src/.cache"), "kept: only node_modules/.cache is skipped");
  await writeFile(join(root, "bootstrap"), "#!/bin/sh\n");
  await chmod(join(root, "bootstrap"), 0o700);
  await writeFile(join(root, "index.js"), "exports.handler = async () => 'ok';");
  await chmod(join(root, "index.js"), 0o664);
}

test("zipDirectory: same tree, same bytes; skips .git and node_modules/.cache; keeps modes and links", async () => {
  const work = await scratchDir();
  const one = join(work, "one");
  const two = join(work, "two");
  await projectTree(one);
  await projectTree(two);
  await utimes(join(two, "index.js"), new Date(2001, 1, 1), new Date(2001, 1, 1));
  await chmod(join(two, "index.js"), 0o644); // same executable bit, different group-write bit
  const zipOne = await zipDirectory(one);
  assert.ok(zipOne.equals(await zipDirectory(two)), "timestamps and non-x mode bits do not matter");

  const dest = join(work, "out");
  await extractZip(zipOne, dest);
  assert.deepEqual(await listing(dest), ["bootstrap", "index.js", "node_modules", "src"]);
  assert.deepEqual(await listing(join(dest, "node_modules")), [".bin", "dep"]);
  assert.deepEqual(await listing(join(dest, "node_modules/dep")), ["cli.js", "index.js", "node_modules"]);
  assert.deepEqual(await listing(join(dest, "node_modules/dep/node_modules")), []);
  assert.deepEqual(await listing(join(dest, "src")), [".cache", "empty"]);
  assert.equal((await lstat(join(dest, "bootstrap"))).mode & 0o777, 0o755);
  assert.equal((await lstat(join(dest, "index.js"))).mode & 0o777, 0o644);
  assert.equal((await lstat(join(dest, "node_modules/dep/cli.js"))).mode & 0o777, 0o755);
  assert.equal(await readlink(join(dest, "node_modules/.bin/dep")), "../dep/cli.js");
  assert.equal(await readFile(join(dest, "index.js"), "utf8"), "exports.handler = async () => 'ok';");
});

test("zipDirectory output passes Info-ZIP's own integrity test", { skip: existsSync("/usr/bin/unzip") ? false : "no /usr/bin/unzip" }, async () => {
  const work = await scratchDir();
  await projectTree(join(work, "tree"));
  await writeFile(join(work, "pkg.zip"), await zipDirectory(join(work, "tree")));
  const { stdout } = await run("/usr/bin/unzip", ["-t", join(work, "pkg.zip")]);
  assert.match(stdout, /No errors detected/);
});

test("zipDirectory refuses links out of the tree and special files", async () => {
  const work = await scratchDir();
  await mkdir(join(work, "a"));
  await symlink("../../etc", join(work, "a/up"));
  await assert.rejects(zipDirectory(join(work, "a")), /is a symlink to "\.\.\/\.\.\/etc", outside/);
  await mkdir(join(work, "b"));
  await mkfifo(join(work, "b/pipe"));
  await assert.rejects(zipDirectory(join(work, "b")), /not a file, directory or symlink/);
});

async function mkfifo(path: string): Promise<void> {
  await run("mkfifo", [path]);
}
