/**
 * Conformance suite for MetadataStore implementations (sqlite, nats). Revisions are opaque
 * tokens: they grow with each write to a key, but not necessarily by one (NATS KV revisions are
 * the bucket's sequence numbers), so the suite compares them only for order and equality.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RevisionMismatchError, type MetadataStore } from "./contract.js";

export function metadataStoreSuite(name: string, open: () => Promise<{ store: MetadataStore; reopen?: () => Promise<MetadataStore>; close: () => Promise<void> }>): void {
  test(`${name}: put/get round-trips and revisions increase`, async () => {
    const { store, close } = await open();
    assert.equal(await store.get("c", "a"), undefined);
    const r1 = await store.put("c", "a", { x: 1 });
    assert.ok(r1 > 0);
    await store.put("c", "other", 0);
    const r2 = await store.put("c", "a", { x: 2 });
    assert.ok(r2 > r1);
    assert.deepEqual(await store.get("c", "a"), { value: { x: 2 }, revision: r2 });
    await close();
  });

  test(`${name}: keys with any characters round-trip, in key order`, async () => {
    const { store, close } = await open();
    const keys = ["123/f:$LATEST", "123/f.v#1", "123/f_x", "123/", "123//x", "123/é ü/π", "123/a b", "123/_2E", "123/="];
    for (const k of keys) await store.put("c", k, k);
    const listed = await store.list<string>("c", "123/");
    assert.deepEqual(listed.items.map((i) => i.key), [...keys].sort());
    for (const i of listed.items) assert.equal(i.value, i.key);
    assert.deepEqual((await store.list("c", "123/f")).items.map((i) => i.key), ["123/f.v#1", "123/f:$LATEST", "123/f_x"]);
    assert.deepEqual((await store.list("c", "12")).items.length, keys.length);
    assert.equal((await store.get<string>("c", "123/é ü/π"))?.value, "123/é ü/π");
    assert.deepEqual((await store.list("other", "")).items, []);
    await close();
  });

  test(`${name}: compare-and-set refuses stale writes`, async () => {
    const { store, close } = await open();
    const r1 = await store.put("c", "k", 1, 0);
    await assert.rejects(store.put("c", "k", 2, 0), RevisionMismatchError);
    await assert.rejects(store.put("c", "k", 2, r1 + 7), RevisionMismatchError);
    const r2 = await store.put("c", "k", 3, r1);
    assert.ok(r2 > r1);
    await assert.rejects(store.put("c", "k", 4, r1), RevisionMismatchError);
    assert.equal(await store.delete("c", "k"), 1);
    assert.equal(await store.delete("c", "k"), 0);
    assert.ok((await store.put("c", "k", 5, 0)) > 0, "a deleted key can be created again");
    await close();
  });

  test(`${name}: list pages by prefix in key order; prefix delete; LIKE characters are literal`, async () => {
    const { store, close } = await open();
    for (const k of ["f/b", "f/a", "f/c", "g/a", "f_x"]) await store.put("c", k, k);
    const p1 = await store.list<string>("c", "f/", { limit: 2 });
    assert.deepEqual(p1.items.map((i) => i.key), ["f/a", "f/b"]);
    assert.equal(p1.next, "f/b");
    const p2 = await store.list<string>("c", "f/", { limit: 2, after: p1.next! });
    assert.deepEqual(p2.items.map((i) => i.key), ["f/c"]);
    assert.equal(p2.next, undefined);
    assert.deepEqual((await store.list("c", "f_")).items.map((i) => i.key), ["f_x"]);
    assert.equal(await store.delete("c", "f/", { prefix: true }), 3);
    assert.deepEqual((await store.list("c", "")).items.map((i) => i.key), ["f_x", "g/a"]);
    await close();
  });

  test(`${name}: batch is all or nothing`, async () => {
    const { store, close } = await open();
    await store.put("c", "x", 1);
    await assert.rejects(
      store.batch([
        { op: "put", collection: "c", key: "y", value: 1 },
        { op: "put", collection: "c", key: "x", value: 2, expectedRevision: 0 },
      ]),
      RevisionMismatchError,
    );
    assert.equal(await store.get("c", "y"), undefined);
    await store.batch([
      { op: "put", collection: "c", key: "y", value: 1 },
      { op: "delete", collection: "c", key: "x" },
    ]);
    assert.equal(await store.get("c", "x"), undefined);
    assert.equal((await store.get("c", "y"))?.value, 1);
    const y = (await store.get("c", "y"))!.revision;
    await store.batch([
      { op: "put", collection: "c", key: "y", value: 2, expectedRevision: y },
      { op: "put", collection: "d", key: "z", value: 3, expectedRevision: 0 },
      { op: "delete", collection: "c", key: "", prefix: true },
    ]);
    assert.equal(await store.get("c", "y"), undefined);
    assert.equal((await store.get("d", "z"))?.value, 3);
    await close();
  });

  test(`${name}: data survives reopening`, async () => {
    const { store, reopen, close } = await open();
    if (!reopen) return close();
    await store.put("c", "durable", { ok: true });
    const again = await reopen();
    assert.deepEqual((await again.get("c", "durable"))?.value, { ok: true });
    await close();
  });
}
