/** Conformance suite for MetadataStore implementations (the sqlite one now, nats later). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RevisionMismatchError, type MetadataStore } from "./contract.js";

export function metadataStoreSuite(name: string, open: () => Promise<{ store: MetadataStore; reopen?: () => Promise<MetadataStore>; close: () => Promise<void> }>): void {
  test(`${name}: put/get round-trips and revisions increase`, async () => {
    const { store, close } = await open();
    assert.equal(await store.get("c", "a"), undefined);
    assert.equal(await store.put("c", "a", { x: 1 }), 1);
    assert.equal(await store.put("c", "a", { x: 2 }), 2);
    assert.deepEqual(await store.get("c", "a"), { value: { x: 2 }, revision: 2 });
    await close();
  });

  test(`${name}: compare-and-set refuses stale writes`, async () => {
    const { store, close } = await open();
    await store.put("c", "k", 1, 0);
    await assert.rejects(store.put("c", "k", 2, 0), RevisionMismatchError);
    await assert.rejects(store.put("c", "k", 2, 7), RevisionMismatchError);
    assert.equal(await store.put("c", "k", 3, 1), 2);
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
