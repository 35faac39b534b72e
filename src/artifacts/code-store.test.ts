import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { codeSha256 } from "./code-sha256.js";
import { CodeStore } from "./code-store.js";
import { craftZip } from "./crafted-zip.test-support.js";
import { UNREADABLE_ZIP_MESSAGE } from "./errors.js";
import { kilnError, listing, scratchDir } from "./scratch.test-support.js";
import { zipFiles } from "./zip-writer.js";

const hexOf = (zip: Buffer): string => createHash("sha256").update(zip).digest("hex");

async function layout(root: string): Promise<Record<string, string[]>> {
  return { zips: await listing(join(root, "zips")), unpacked: await listing(join(root, "unpacked")), meta: await listing(join(root, "meta")) };
}

test("put stores the zip and its unpacked tree under the hex digest", async () => {
  const root = await scratchDir();
  const store = await CodeStore.open(root, { bootId: "boot-1" });
  const zip = await zipFiles({ "index.js": "exports.handler = async () => 42;", "bootstrap": { data: "#!/bin/sh", mode: 0o755 } });
  const hex = hexOf(zip);
  const stored = await store.put(zip);

  assert.deepEqual(stored, { sha256: codeSha256(zip), size: zip.length, unzippedBytes: 33 + 9, files: 2, dir: join(root, "unpacked", hex) });
  assert.equal(store.dirFor(stored.sha256), stored.dir);
  assert.equal(store.zipPath(stored.sha256), join(root, "zips", `${hex}.zip`));
  assert.ok((await readFile(store.zipPath(stored.sha256))).equals(zip));
  assert.equal(await readFile(join(stored.dir, "index.js"), "utf8"), "exports.handler = async () => 42;");
  assert.deepEqual(await layout(root), { zips: [`${hex}.zip`], unpacked: [hex], meta: [`${hex}.json`] });
  assert.deepEqual(await store.get(stored.sha256), stored);
  assert.deepEqual(await store.list(), [stored.sha256]);
});

test("putting the same zip again, even concurrently, keeps one copy", async () => {
  const root = await scratchDir();
  const store = await CodeStore.open(root, { bootId: "boot-1" });
  const zip = await zipFiles({ "a.txt": "same bytes" });
  const results = await Promise.all(Array.from({ length: 8 }, () => store.put(zip)));
  for (const r of results) assert.deepEqual(r, results[0]);
  assert.deepEqual(await store.put(zip), results[0]);
  // A second store on the same root (another process, in effect) agrees.
  const other = await CodeStore.open(root, { bootId: "boot-1" });
  assert.deepEqual(await other.put(zip), results[0]);
  const hex = hexOf(zip);
  assert.deepEqual(await layout(root), { zips: [`${hex}.zip`], unpacked: [hex], meta: [`${hex}.json`] }, "no temporaries left");
});

test("a bad zip is stored nowhere and leaves nothing behind", async () => {
  const root = await scratchDir();
  const store = await CodeStore.open(root, { bootId: "boot-1" });
  await assert.rejects(store.put(Buffer.from("not a zip")), kilnError("InvalidParameterValueException", UNREADABLE_ZIP_MESSAGE));
  await assert.rejects(store.put(craftZip([{ name: "../evil", data: "x" }])), kilnError("InvalidParameterValueException", /"\.\.\/evil"/));
  assert.deepEqual(await layout(root), { zips: [], unpacked: [], meta: [] });
  assert.deepEqual(await listing(root), ["blobs", "meta", "unpacked", "zips"]);
  assert.deepEqual(await store.list(), []);
});

test("the store applies its extraction limits", async () => {
  const root = await scratchDir();
  const store = await CodeStore.open(root, { bootId: "boot-1", limits: { maxUnzippedBytes: 4 } });
  await assert.rejects(store.put(await zipFiles({ a: "12345" })), kilnError("InvalidParameterValueException", "Unzipped size must be smaller than 4 bytes"));
  assert.deepEqual(await layout(root), { zips: [], unpacked: [], meta: [] });
});

test("ensureUnpacked rebuilds a missing tree, or one unpacked in an earlier boot, from the zip", async () => {
  const root = await scratchDir();
  const zip = await zipFiles({ "a.txt": "A" });
  const before = await CodeStore.open(root, { bootId: "boot-1" });
  const { sha256, dir } = await before.put(zip);
  assert.equal(await before.ensureUnpacked(sha256), dir);

  await writeFile(join(dir, "a.txt"), ""); // what a power loss can leave of an unsynced file
  const afterReboot = await CodeStore.open(root, { bootId: "boot-2" });
  assert.equal(await afterReboot.ensureUnpacked(sha256), dir);
  assert.equal(await readFile(join(dir, "a.txt"), "utf8"), "A");

  await rm(dir, { recursive: true });
  assert.equal(await afterReboot.ensureUnpacked(sha256), dir);
  assert.equal(await readFile(join(dir, "a.txt"), "utf8"), "A");
  assert.deepEqual((await layout(root)).unpacked, [hexOf(zip)]);
  // put also repairs, and then reports the package as stored in this boot.
  await rm(dir, { recursive: true });
  assert.equal((await afterReboot.put(zip)).dir, dir);
  assert.equal(await readFile(join(dir, "a.txt"), "utf8"), "A");
});

test("ensureUnpacked refuses unknown packages and a zip that no longer matches its digest", async () => {
  const root = await scratchDir();
  const store = await CodeStore.open(root, { bootId: "boot-1" });
  const zip = await zipFiles({ "a.txt": "A" });
  await assert.rejects(store.ensureUnpacked(codeSha256(zip)), kilnError("ResourceNotFoundException", /is not stored/));
  const { sha256, dir } = await store.put(zip);
  await rm(dir, { recursive: true });
  await writeFile(store.zipPath(sha256), await zipFiles({ "a.txt": "tampered" }));
  await assert.rejects(store.ensureUnpacked(sha256), kilnError("ServiceException", /does not match its digest/));
});

test("remove deletes every part of a package and nothing else", async () => {
  const root = await scratchDir();
  const store = await CodeStore.open(root, { bootId: "boot-1" });
  const keep = await store.put(await zipFiles({ "keep.txt": "k" }));
  const gone = await store.put(await zipFiles({ "gone.txt": "g" }));
  assert.equal(await store.remove(gone.sha256), true);
  assert.equal(await store.remove(gone.sha256), false);
  assert.equal(await store.get(gone.sha256), undefined);
  assert.deepEqual(await store.list(), [keep.sha256]);
  const hex = keep.dir.split("/").pop()!;
  assert.deepEqual(await layout(root), { zips: [`${hex}.zip`], unpacked: [hex], meta: [`${hex}.json`] });
});

test("paths come only from valid digests", async () => {
  const store = await CodeStore.open(await scratchDir(), { bootId: "boot-1" });
  for (const bad of ["../../etc", "abc", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"]) {
    assert.throws(() => store.dirFor(bad), kilnError("InvalidParameterValueException", /Invalid CodeSha256/));
    assert.throws(() => store.zipPath(bad), kilnError("InvalidParameterValueException", /Invalid CodeSha256/));
  }
});
