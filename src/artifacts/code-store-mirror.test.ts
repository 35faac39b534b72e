import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { codeSha256, codeSha256ToHex } from "./code-sha256.js";
import { CodeStore } from "./code-store.js";
import { kilnError, scratchDir } from "./scratch.test-support.js";
import { zipFiles } from "./zip-writer.js";
import type { BlobStore } from "../store/index.js";
import { openNatsStores, type NatsStores } from "../store/index.js";
import { startNats, type NatsCluster } from "../../test/support/nats.js";

class MemoryBlobs implements BlobStore {
  readonly map = new Map<string, Buffer>();
  puts = 0;
  async put(key: string, data: Buffer) {
    this.puts++;
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

test("a mirrored put uploads once; another node's store fetches, verifies and unpacks it", async () => {
  const mirror = new MemoryBlobs();
  const a = await CodeStore.open(await scratchDir(), { bootId: "b", mirror });
  const b = await CodeStore.open(await scratchDir(), { bootId: "b", mirror });
  const zip = await zipFiles({ "index.js": "exports.handler = async () => 'from a';" });
  const sha = codeSha256(zip);
  await a.put(zip);
  await a.put(zip);
  assert.equal(mirror.puts, 1);
  assert.ok(mirror.map.get(codeSha256ToHex(sha))!.equals(zip));

  const dir = await b.ensureUnpacked(sha);
  assert.equal(await readFile(join(dir, "index.js"), "utf8"), "exports.handler = async () => 'from a';");
  assert.equal((await b.get(sha))?.size, zip.length);
  assert.deepEqual(await b.list(), [sha]);
  assert.equal(await b.ensureLocal(sha), true);
  assert.ok((await readFile(b.zipPath(sha))).equals(zip));
});

test("get and ensureLocal fetch from the mirror; a tampered copy is refused; unknown packages stay unknown", async () => {
  const mirror = new MemoryBlobs();
  const a = await CodeStore.open(await scratchDir(), { bootId: "b", mirror });
  const zip = await zipFiles({ "x.txt": "x" });
  const sha = codeSha256(zip);
  mirror.map.set(codeSha256ToHex(sha), zip);
  assert.equal(await a.ensureLocal(sha), true);
  assert.ok((await readFile(a.zipPath(sha))).equals(zip));

  const c = await CodeStore.open(await scratchDir(), { bootId: "b", mirror });
  const other = await zipFiles({ "y.txt": "y" });
  mirror.map.set(codeSha256ToHex(codeSha256(other)), zip); // wrong bytes under other's digest
  await assert.rejects(c.get(codeSha256(other)), kilnError("ServiceException", /does not match its digest/));
  const unknown = codeSha256(Buffer.from("nothing"));
  assert.equal(await c.get(unknown), undefined);
  assert.equal(await c.ensureLocal(unknown), false);
  await assert.rejects(c.ensureUnpacked(unknown), kilnError("ResourceNotFoundException", /is not stored/));
});

test("without a mirror, ensureLocal reports only what is on this disk", async () => {
  const s = await CodeStore.open(await scratchDir(), { bootId: "b" });
  const zip = await zipFiles({ "x.txt": "x" });
  assert.equal(await s.ensureLocal(codeSha256(zip)), false);
  await s.put(zip);
  assert.equal(await s.ensureLocal(codeSha256(zip)), true);
});

let nats: NatsCluster;
let stores: NatsStores;
before(async () => {
  nats = await startNats(1);
  stores = await openNatsStores(await nats.connect(), { replicas: 1 });
});
after(async () => {
  await stores.close();
  await nats.close();
});

test("two code stores sharing one NATS object store: a package put on A unpacks on B", async () => {
  const a = await CodeStore.open(await scratchDir(), { bootId: "b", mirror: stores.blobs });
  const b = await CodeStore.open(await scratchDir(), { bootId: "b", mirror: stores.blobs });
  const big = Buffer.alloc(400_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
  const zip = await zipFiles({ "index.js": "exports.handler = async () => 1;", "data.bin": big });
  const sha = codeSha256(zip);
  await a.put(zip);
  assert.equal(await stores.blobs.has(codeSha256ToHex(sha)), true);
  const dir = await b.ensureUnpacked(sha);
  assert.ok((await readFile(join(dir, "data.bin"))).equals(big));
  assert.equal(await b.ensureLocal(sha), true);
});
