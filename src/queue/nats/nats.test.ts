import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { startNats, type NatsCluster } from "../../../test/support/nats.js";
import { asyncQueueSuite } from "../queue.case.js";
import type { LeasedEvent, NewEvent } from "../contract.js";
import { openNatsQueue, type NatsAsyncQueue } from "./queue.js";
import { laneOfToken, laneToken } from "./names.js";
import { parseAckSubject } from "./pull.js";

let nats: NatsCluster;
let nc: NatsConnection;
before(async () => {
  nats = await startNats(1);
  nc = await nats.connect();
});
after(async () => {
  await nats?.close();
});

/** Fresh resources per test: its own stream, subject prefix and bucket. */
let n = 0;
function fresh(): { stream: string; prefix: string; bucket: string } {
  n++;
  return { stream: `KILN_ASYNC_T${n}`, prefix: `kiln.asynct${n}`, bucket: `kiln-async-counters-t${n}` };
}

asyncQueueSuite("nats", async () => {
  const names = fresh();
  let current: NatsAsyncQueue = await openNatsQueue(nc, { replicas: 1, ...names });
  return {
    queue: current,
    realTime: true,
    reopen: async () => {
      await current.close();
      current = await openNatsQueue(await nats.connect(), { replicas: 1, ...names });
      return current;
    },
    close: () => current.close(),
  };
});

const LANE = "000000000000/f";
const target = { accountId: "000000000000", functionName: "f" };
const event = (id: string): NewEvent => ({ id, target, payload: Buffer.from(JSON.stringify({ id })), receivedAt: Date.now(), source: "invoke" });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("nats: lane tokens round-trip and are safe in subjects, keys and consumer names", () => {
  for (const lane of ["000000000000/my-fn", "000000000000/a_b", "1/ünï.*>"]) {
    const t = laneToken(lane);
    assert.match(t, /^[A-Za-z0-9_-]+$/);
    assert.equal(laneOfToken(t), lane);
  }
  assert.notEqual(laneToken("0/a_2Fb"), laneToken("0/a/b"));
});

test("nats: ack subjects are parsed in both forms", () => {
  assert.deepEqual(parseAckSubject("$JS.ACK.S.C.3.41.7.1700000000000000000.0"), { seq: 41, deliveryCount: 3 });
  assert.deepEqual(parseAckSubject("$JS.ACK.dom.acchash.S.C.2.9.5.1700000000000000000.0.tok"), { seq: 9, deliveryCount: 2 });
  assert.equal(parseAckSubject("_INBOX.x"), undefined);
});

test("nats: two queue instances (two poller nodes) lease one lane concurrently: no event held twice, all delivered once", async () => {
  const names = fresh();
  const [c1, c2] = [await nats.connect(), await nats.connect()];
  const q1 = await openNatsQueue(c1, { replicas: 1, ...names });
  const q2 = await openNatsQueue(c2, { replicas: 1, ...names });
  const total = 150;
  await q1.enqueue(Array.from({ length: total }, (_, i) => event(`e${i}`)));
  const held = new Set<string>();
  const acked = new Map<string, number>();
  let doubleHeld = 0;
  let redelivered = 0;
  const poller = async (q: NatsAsyncQueue) => {
    let idle = 0;
    while (acked.size < total && idle < 100) {
      const got: LeasedEvent[] = await q.lease(LANE, 4, Date.now(), 60_000);
      if (got.length === 0) idle++;
      await Promise.all(
        got.map(async (e) => {
          if (held.has(e.id)) doubleHeld++;
          if (e.redelivered) redelivered++;
          held.add(e.id);
          await sleep(Math.random() * 5);
          held.delete(e.id);
          if (await q.ack(e, { counters: { succeeded: 1 } })) acked.set(e.id, (acked.get(e.id) ?? 0) + 1);
        }),
      );
    }
  };
  await Promise.all([poller(q1), poller(q2), poller(q1), poller(q2)]);
  assert.equal(doubleHeld, 0);
  assert.equal(redelivered, 0);
  assert.equal(acked.size, total);
  assert.ok([...acked.values()].every((k) => k === 1));
  const st = await q2.stats(LANE, Date.now());
  assert.equal(st.depth, 0);
  assert.equal(st.counters.succeeded, total);
  assert.equal(st.counters.received, total);
});

test("nats: a lease that expires (consumer AckWait) goes to the other node, counted as redelivered; the old lease cannot settle", async () => {
  const names = fresh();
  const q1 = await openNatsQueue(await nats.connect(), { replicas: 1, ...names });
  const q2 = await openNatsQueue(await nats.connect(), { replicas: 1, ...names });
  await q1.enqueue([event("x")]);
  const [first] = await q1.lease(LANE, 1, Date.now(), 1000);
  assert.equal(first!.redelivered, false);
  assert.deepEqual(await q2.lease(LANE, 1, Date.now(), 1000), [], "hidden while leased");
  assert.equal((await q2.lanes(Date.now()))[0]!.inFlight, 1);
  await sleep(1200);
  assert.equal((await q2.lanes(Date.now()))[0]!.ready, 1, "an expired lease shows as ready, so a scan finds it");
  const [second] = await q2.lease(LANE, 1, Date.now(), 1000);
  assert.equal(second!.id, "x");
  assert.equal(second!.redelivered, true);
  assert.ok(second!.receipt > first!.receipt);
  assert.equal(await q1.ack(first!), false, "the expired lease is stale");
  assert.equal(await q2.retryAt(second!, Date.now(), { attempts: 1, backoffs: 0, lastError: "x" }), true);
  const [third] = await q1.lease(LANE, 1, Date.now(), 1000);
  assert.equal(third!.redelivered, false, "a retry is not a redelivery");
  assert.equal(third!.attempts, 1);
  assert.equal(await q1.ack(third!), true);
  const st = await q1.stats(LANE, Date.now());
  assert.equal(st.counters.redelivered, 1);
  assert.equal(st.depth, 0);
});

test("nats: the stream is replicated as asked and the consumer's AckWait is the lease", async () => {
  const names = fresh();
  const q = await openNatsQueue(nc, { replicas: 1, ...names });
  await q.enqueue([event("y")]);
  await q.lease(LANE, 1, Date.now(), 16 * 60_000);
  const jsm = await jetstreamManager(nc);
  const si = await jsm.streams.info(names.stream);
  assert.equal(si.config.retention, "workqueue");
  assert.equal(si.config.num_replicas, 1);
  const ci = await jsm.consumers.info(names.stream, laneToken(LANE));
  assert.equal(ci.config.ack_wait, 16 * 60_000 * 1e6);
});
