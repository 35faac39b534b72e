import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamClient } from "@nats-io/jetstream";
import { systemClock } from "../../base/index.js";
import { NatsLogStore } from "./logs.js";
import { startNats, type NatsCluster } from "../../../test/support/nats.js";
import { RevisionMismatchError } from "../contract.js";
import { metadataStoreSuite } from "../store.case.js";
import { logStoreSuite } from "../logs.case.js";
import { openNatsStores, type NatsStoreOptions, type NatsStores } from "./index.js";
import { decodeKey, decodeToken, encodeKey, encodeToken, prefixFilter } from "./keys.js";

let nats: NatsCluster;
let nc: NatsConnection;
let n = 0;

before(async () => {
  nats = await startNats(1);
  nc = await nats.connect();
});
after(async () => {
  await nats.close();
});

/** Fresh resource names per test, so tests do not see each other's keys. */
function fresh(): NatsStoreOptions {
  n++;
  return { replicas: 1, names: { metadata: `t-meta-${n}`, logs: `T_LOGS_${n}`, logSubjects: `t.logs${n}`, blobs: `t-code-${n}` } };
}

metadataStoreSuite("nats", async () => {
  const opts = fresh();
  const opened: NatsStores[] = [await openNatsStores(nc, opts)];
  return {
    store: opened[0]!.metadata,
    reopen: async () => {
      await opened[opened.length - 1]!.close();
      const s = await openNatsStores(nc, opts);
      opened.push(s);
      return s.metadata;
    },
    close: async () => {
      for (const s of opened) await s.close();
    },
  };
});

logStoreSuite("nats", async () => {
  const s = await openNatsStores(nc, fresh());
  return { logs: s.logs, close: () => s.close() };
});

test("key encoding is reversible and only uses NATS key characters", () => {
  for (const s of ["", "a", "a.b", "$LATEST", "x:y#z", "_", "=", "é", "a b", "-_=."]) {
    const t = encodeToken(s);
    assert.match(t, /^[-_=a-zA-Z0-9]+$/);
    assert.equal(decodeToken(t), s);
  }
  for (const k of ["a/b", "/a", "a/", "a//b", "123/fn:$LATEST"]) assert.equal(decodeKey(encodeKey(k)), k);
  assert.deepEqual(prefixFilter("functions", "123/f"), { filter: "d.functions.123.>", rest: "f" });
  assert.deepEqual(prefixFilter("functions", "12"), { filter: "d.functions.>", rest: "12" });
});

test("nats: opening binds to existing resources; a batch left behind by a crash is rolled forward", async () => {
  const opts = fresh();
  const a = await openNatsStores(nc, opts);
  await a.metadata.put("c", "x", 1);
  const x = (await a.metadata.get("c", "x"))!.revision;
  // What a process that died between applying the first op and deleting the intent leaves behind.
  const intent = {
    id: "dead",
    created: 0,
    state: "apply",
    ops: [
      { collection: "c", key: "x", json: "2", cas: true, beforeRevision: x, beforeJson: "1" },
      { collection: "c", key: "y", json: "3", cas: false, beforeRevision: 0 },
    ],
  };
  await a.metadata.kv.put("txn.dead", JSON.stringify(intent));
  await a.metadata.kv.update("d.c.x", "2", x); // op 1 applied, op 2 not
  const b = await openNatsStores(nc, opts); // opening sweeps
  assert.equal((await b.metadata.get("c", "x"))?.value, 2);
  assert.equal((await b.metadata.get("c", "y"))?.value, 3);
  assert.equal(await b.metadata.kv.get("txn.dead").then((e) => e?.operation === "PUT"), false);
  await a.close();
  await b.close();
});

test("nats: an aborted batch left behind is rolled back unless the key moved on", async () => {
  const opts = fresh();
  const a = await openNatsStores(nc, opts);
  await a.metadata.put("c", "x", 1);
  const ops = [
    { collection: "c", key: "x", json: "2", cas: true, beforeRevision: 1, beforeJson: "1" },
    { collection: "c", key: "new", json: "5", cas: false, beforeRevision: 0 },
  ];
  await a.metadata.kv.put("txn.abort1", JSON.stringify({ id: "abort1", created: 0, state: "abort", ops }));
  await a.metadata.put("c", "x", 2);
  await a.metadata.put("c", "new", 5);
  await a.metadata.put("c", "new", 6); // someone else's later write: stays
  const b = await openNatsStores(nc, opts);
  assert.equal((await b.metadata.get("c", "x"))?.value, 1);
  assert.equal((await b.metadata.get("c", "new"))?.value, 6);
  await a.close();
  await b.close();
});

test("nats: a batch conflicting midway is undone and reports the mismatch", async () => {
  const s = await openNatsStores(nc, fresh());
  const m = s.metadata;
  const a = await m.put("c", "a", "a0");
  const b = await m.put("c", "b", "b0");
  // Make b move after the batch has read it: wrap the KV so the first write of "a" is followed by a foreign write to "b".
  const kv = m.kv;
  const update = kv.update.bind(kv);
  let once = true;
  kv.update = async (k, data, rev) => {
    const r = await update(k, data, rev);
    if (once && k === "d.c.a") {
      once = false;
      await m.put("c", "b", "foreign");
    }
    return r;
  };
  await assert.rejects(
    m.batch([
      { op: "put", collection: "c", key: "a", value: "a1", expectedRevision: a },
      { op: "put", collection: "c", key: "b", value: "b1", expectedRevision: b },
    ]),
    (e: Error) => e instanceof RevisionMismatchError && e.key === "b",
  );
  kv.update = update;
  assert.equal((await m.get("c", "a"))?.value, "a0");
  assert.equal((await m.get("c", "b"))?.value, "foreign");
  const leftover = await Promise.all((await m.natsKeys("txn.>")).map((k) => kv.get(k)));
  assert.deepEqual(leftover.filter((e) => e?.operation === "PUT"), []);
  await s.close();
});

test("nats blobs: put, get, has, delete", async () => {
  const s = await openNatsStores(nc, fresh());
  const data = Buffer.alloc(300_000, 7);
  data.write("hello", 1000);
  assert.equal(await s.blobs.has("snapshot/abc"), false);
  assert.equal(await s.blobs.get("snapshot/abc"), undefined);
  await s.blobs.put("snapshot/abc", data);
  assert.equal(await s.blobs.has("snapshot/abc"), true);
  assert.ok((await s.blobs.get("snapshot/abc"))!.equals(data));
  await s.blobs.delete("snapshot/abc");
  await s.blobs.delete("snapshot/abc");
  assert.equal(await s.blobs.has("snapshot/abc"), false);
  assert.equal(await s.blobs.get("snapshot/abc"), undefined);
  await s.close();
});

test("nats logs: when no scan consumer can be created, filtering reads message by message", async () => {
  const opts = fresh();
  const s = await openNatsStores(nc, opts);
  const timingOut = {
    consumers: {
      getPushConsumer: async () => {
        const e = new Error("timeout");
        e.name = "TimeoutError";
        throw e;
      },
    },
  } as unknown as JetStreamClient;
  const logs = new NatsLogStore(jetstream(nc), timingOut, await jetstreamManager(nc), systemClock, { stream: opts.names!.logs!, subjectRoot: opts.names!.logSubjects! });
  logs.append("1", "g", "s1", [{ timestamp: 1, message: "a" }, { timestamp: 2, message: "b" }]);
  logs.append("1", "g", "s2", [{ timestamp: 3, message: "c" }]);
  logs.append("1", "h", "s1", [{ timestamp: 3, message: "other group" }]);
  const p1 = await logs.filter("1", "g", { limit: 2 });
  assert.deepEqual(p1.events.map((e) => e.message), ["a", "b"]);
  const p2 = await logs.filter("1", "g", { limit: 2, nextToken: p1.nextToken! });
  assert.deepEqual(p2.events.map((e) => e.message), ["c"]);
  assert.deepEqual((await logs.filter("1", "g", { streamNames: ["s2"] })).events.map((e) => e.message), ["c"]);
  assert.deepEqual((await logs.streams("1", "g")).map((x) => x.logStreamName), ["s2", "s1"]);
  await s.close();
});
