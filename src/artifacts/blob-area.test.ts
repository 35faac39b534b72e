import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { MAX_MIRRORED_BLOB_BYTES, hashFile } from "./blob-area.js";
import { CodeStore } from "./code-store.js";
import { kilnError, listing, scratchDir } from "./scratch.test-support.js";
import type { BlobStore } from "../store/index.js";

const hexOf = (b: Buffer | string): string => createHash("sha256").update(b).digest("hex");

class MemoryBlobs implements BlobStore {
  readonly map = new Map<string, Buffer>();
  async put(key: string, data: Buffer) {
    this.map.set(key, Buffer.from(data));
  }
  async get(key: string) {
    return this.map.get(key);
  }
  async has(key: string) {
    return this.map.has(key);
  }
  async delete(key: string) {
    this.map.delete(key);
  }
}

test("putBlob moves a file in under its hex SHA-256 without copying it", async () => {
  const root = await scratchDir();
  const store = await CodeStore.open(root, { bootId: "b" });
  const source = join(await scratchDir(), "memory");
  // Several stream chunks, so the hash is computed over more than one read.
  const bytes = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
  await writeFile(source, bytes);
  const inode = (await stat(source)).ino;

  const stored = await store.putBlob(source);
  assert.deepEqual(stored, { sha256: hexOf(bytes), size: bytes.length, path: join(root, "blobs", hexOf(bytes)) });
  assert.equal(store.blobPath(stored.sha256), stored.path);
  assert.equal((await stat(stored.path)).ino, inode, "a hard link, not a copy");
  await assert.rejects(stat(source), { code: "ENOENT" });
  assert.deepEqual(await hashFile(stored.path), { sha256: stored.sha256, size: bytes.length });
});

test("putBlob takes a stream; the same bytes twice keep one copy and leave nothing behind", async () => {
  const root = await scratchDir();
  const store = await CodeStore.open(root, { bootId: "b" });
  const a = await store.putBlob(Readable.from([Buffer.from("device "), Buffer.from("state")]));
  const b = await store.putBlob(Readable.from([Buffer.from("device state")]));
  assert.equal(a.sha256, hexOf("device state"));
  assert.deepEqual(b, a);
  assert.deepEqual(await listing(join(root, "blobs")), [a.sha256]);
  assert.equal(await readFile(await store.ensureBlob(a.sha256), "utf8"), "device state");
});

test("links are references: release removes the blob with its last link; removeBlob removes it outright", async () => {
  const root = await scratchDir();
  const store = await CodeStore.open(root, { bootId: "b" });
  const { sha256 } = await store.putBlob(Readable.from([Buffer.from("snapshot")]));
  assert.deepEqual(await store.blobs.unreferenced(), [sha256]);

  const users = await scratchDir();
  const one = await store.blobs.link(sha256, join(users, "one"));
  const two = await store.blobs.link(sha256, join(users, "two"));
  assert.equal((await stat(one)).ino, (await stat(store.blobPath(sha256))).ino);
  assert.deepEqual(await store.blobs.unreferenced(), []);

  assert.equal(await store.blobs.release(sha256, one), false, "still linked by two");
  assert.equal(await readFile(store.blobPath(sha256), "utf8"), "snapshot");
  assert.equal(await store.blobs.release(sha256, two), true);
  await assert.rejects(stat(store.blobPath(sha256)), { code: "ENOENT" });
  await assert.rejects(store.ensureBlob(sha256), kilnError("ResourceNotFoundException", /is not stored/));
  assert.deepEqual(await listing(users), []);

  const again = await store.putBlob(Readable.from([Buffer.from("other")]));
  assert.equal(await store.removeBlob(again.sha256), true);
  assert.equal(await store.removeBlob(again.sha256), false);
  assert.throws(() => store.blobPath("../etc/passwd"), TypeError);
});

test("with a mirror: small blobs are shared and fetched (digest checked); large ones stay local", async () => {
  const mirror = new MemoryBlobs();
  const a = await CodeStore.open(await scratchDir(), { bootId: "b", mirror });
  const b = await CodeStore.open(await scratchDir(), { bootId: "b", mirror });
  const { sha256 } = await a.putBlob(Readable.from([Buffer.from("state")]));
  assert.ok(mirror.map.get(sha256)?.equals(Buffer.from("state")));
  const linked = await b.blobs.link(sha256, join(await scratchDir(), "state"));
  assert.equal(await readFile(linked, "utf8"), "state");

  const tampered = hexOf("x");
  mirror.map.set(tampered, Buffer.from("not x"));
  await assert.rejects(b.ensureBlob(tampered), kilnError("ServiceException", /does not match its digest/));

  const big = join(await scratchDir(), "memory");
  await writeFile(big, Buffer.alloc(MAX_MIRRORED_BLOB_BYTES + 1));
  const large = await a.putBlob(big);
  assert.equal(mirror.map.has(large.sha256), false);
});
