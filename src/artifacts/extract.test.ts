import { test } from "node:test";
import assert from "node:assert/strict";
import { lstat, mkdir, readFile, readlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { craftZip } from "./crafted-zip.test-support.js";
import { UNREADABLE_ZIP_MESSAGE } from "./errors.js";
import { extractZip } from "./extract.js";
import { kilnError, listing, scratchDir } from "./scratch.test-support.js";
import { zipFiles } from "./zip-writer.js";

const modeOf = async (path: string): Promise<number> => (await lstat(path)).mode & 0o7777;

test("extracts files, directories and in-package symlinks with Lambda's modes", async () => {
  const parent = await scratchDir();
  const files = {
    bootstrap: { data: "#!/bin/sh\nexec node index.js\n", mode: 0o700 },
    "index.js": { data: "exports.handler = async () => 1;", mode: 0o600 },
    "lib/libfoo.so.1": Buffer.from([0x7f, 0x45, 0x4c, 0x46]),
    "lib/libfoo.so": { data: "libfoo.so.1", mode: 0o120777 },
    "node_modules/.bin/tool": { data: "../tool/cli.js", mode: 0o120777 },
    "node_modules/tool/cli.js": { data: "#!/usr/bin/env node", mode: 0o775 },
    "data/": "",
  };
  const zip = await zipFiles(files);
  const contentBytes = Object.values(files).reduce((n, f) => n + Buffer.byteLength(typeof f === "string" || Buffer.isBuffer(f) ? f : f.data), 0);
  const dest = join(parent, "code");
  const result = await extractZip(zip, dest);

  assert.deepEqual(result, { files: 6, unzippedBytes: contentBytes }, "symlink targets count, directories do not");
  assert.deepEqual(await listing(parent), ["code"], "nothing beside the destination");
  assert.deepEqual(await listing(dest), ["bootstrap", "data", "index.js", "lib", "node_modules"]);
  assert.equal(await readFile(join(dest, "index.js"), "utf8"), "exports.handler = async () => 1;");
  assert.equal(await modeOf(join(dest, "bootstrap")), 0o755);
  assert.equal(await modeOf(join(dest, "index.js")), 0o644);
  assert.equal(await modeOf(join(dest, "node_modules/tool/cli.js")), 0o755);
  for (const d of ["", "data", "lib", "node_modules", "node_modules/.bin"]) assert.equal(await modeOf(join(dest, d)), 0o755, d);
  assert.equal(await readlink(join(dest, "lib/libfoo.so")), "libfoo.so.1");
  assert.equal(await readlink(join(dest, "node_modules/.bin/tool")), "../tool/cli.js");
  assert.equal(await readFile(join(dest, "node_modules/.bin/tool"), "utf8"), "#!/usr/bin/env node", "the link resolves");
});

test("modes do not depend on the umask", async () => {
  const parent = await scratchDir();
  const previous = process.umask(0o077);
  try {
    await extractZip(await zipFiles({ "bin/run": { data: "x", mode: 0o755 }, "a.txt": "a" }), join(parent, "code"));
  } finally {
    process.umask(previous);
  }
  assert.equal(await modeOf(join(parent, "code/bin/run")), 0o755);
  assert.equal(await modeOf(join(parent, "code/a.txt")), 0o644);
  assert.equal(await modeOf(join(parent, "code/bin")), 0o755);
  assert.equal(await modeOf(join(parent, "code")), 0o755);
});

test("an empty zip gives an empty directory; a missing parent is created", async () => {
  const parent = await scratchDir();
  const dest = join(parent, "a/b/code");
  assert.deepEqual(await extractZip(await zipFiles({}), dest), { files: 0, unzippedBytes: 0 });
  assert.deepEqual(await listing(dest), []);
});

test("bytes that are not a readable zip get AWS's message and leave nothing", async () => {
  const parent = await scratchDir();
  const good = await zipFiles({ "a.txt": "hello world, hello world" });
  const badCrc = craftZip([{ name: "a.txt", data: "hello", deflate: false, crc32: 0x12345678 }]);
  const corruptDeflate = craftZip([{ name: "a.txt", data: "hello hello hello hello" }]);
  corruptDeflate.writeUInt8(corruptDeflate.readUInt8(30 + 5) ^ 0xff, 30 + 5); // first byte of the deflate stream
  const inputs: Array<[string, Buffer]> = [
    ["empty", Buffer.alloc(0)],
    ["text", Buffer.from("this is not a zip")],
    ["truncated", good.subarray(0, good.length - 10)],
    ["bad crc", badCrc],
    ["corrupt deflate", corruptDeflate],
  ];
  for (const [label, zip] of inputs) {
    await assert.rejects(extractZip(zip, join(parent, "code")), kilnError("InvalidParameterValueException", UNREADABLE_ZIP_MESSAGE), label);
    assert.deepEqual(await listing(parent), [], label);
  }
});

test("a bad entry among many written concurrently leaves nothing behind", async () => {
  const parent = await scratchDir();
  const entries = Array.from({ length: 60 }, (_, i) => ({ name: `d${i % 7}/f${i}.txt`, data: `file ${i}\n`.repeat(500) }));
  const badCrc = craftZip(entries.map((e, i) => (i === 33 ? { ...e, crc32: 1 } : e)));
  await assert.rejects(extractZip(badCrc, join(parent, "code")), kilnError("InvalidParameterValueException", UNREADABLE_ZIP_MESSAGE));
  const tooBig = craftZip(entries);
  await assert.rejects(extractZip(tooBig, join(parent, "code"), { maxUnzippedBytes: 100_000 }), kilnError("InvalidParameterValueException", /smaller than 100000 bytes/));
  assert.deepEqual(await listing(parent), []);
  assert.equal((await extractZip(tooBig, join(parent, "code"))).files, 60);
});

test("an existing non-empty destination is not touched", async () => {
  const parent = await scratchDir();
  const dest = join(parent, "code");
  await mkdir(dest);
  await writeFile(join(dest, "keep.txt"), "mine");
  await assert.rejects(extractZip(await zipFiles({ "a.txt": "a" }), dest), kilnError("ServiceException", /Could not store function code/));
  assert.deepEqual(await listing(parent), ["code"]);
  assert.deepEqual(await listing(dest), ["keep.txt"]);
});

test("limits can be lowered", async () => {
  const parent = await scratchDir();
  const zip = await zipFiles({ a: "12345", b: "67890", c: "x" });
  await assert.rejects(extractZip(zip, join(parent, "code"), { maxUnzippedBytes: 10 }), kilnError("InvalidParameterValueException", "Unzipped size must be smaller than 10 bytes"));
  await assert.rejects(extractZip(zip, join(parent, "code"), { maxEntries: 2 }), kilnError("InvalidParameterValueException", /3 entries; at most 2/));
  assert.deepEqual(await listing(parent), []);
  assert.deepEqual(await extractZip(zip, join(parent, "code"), { maxUnzippedBytes: 11, maxEntries: 3 }), { files: 3, unzippedBytes: 11 });
});
