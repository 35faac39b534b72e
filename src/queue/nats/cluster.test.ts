import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { startNats, type NatsCluster } from "../../../test/support/nats.js";
import type { DroppedEvent, LaneStats, LeasedEvent, NewEvent } from "../contract.js";
import { openNatsQueue, type NatsAsyncQueue } from "./queue.js";
import { RECENT_DROPS_SHOWN } from "./counters.js";

let nats: NatsCluster;
const own: NatsConnection[] = [];
before(async () => {
  nats = await startNats(3);
});
after(async () => {
  await Promise.all(own.map((c) => c.close().catch(() => undefined)));
  await nats?.close();
});

/** A connection to one given member, so two queues write through different nodes. */
async function connectTo(i: number): Promise<NatsConnection> {
  const nc = await connect({ servers: [nats.urls[i]!] });
  own.push(nc);
  return nc;
}

const LANE = "000000000000/f";
const target = { accountId: "000000000000", functionName: "f" };
const event = (id: string): NewEvent => ({ id, target, payload: Buffer.from(id), receivedAt: Date.now(), source: "invoke" });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("nats cluster (replicas 3): two processes on different nodes count exactly (no compare-and-set race on shared keys)", { timeout: 120_000 }, async () => {
  const names = { stream: "KILN_ASYNC_EXACT", prefix: "kiln.asyncexact", bucket: "kiln-async-counters-exact" };
  const q1 = await openNatsQueue(await connectTo(0), { replicas: 3, ...names });
  const q2 = await openNatsQueue(await connectTo(1), { replicas: 3, ...names });
  const perProducer = 300;
  const total = 2 * perProducer;
  const produce = async (q: NatsAsyncQueue, tag: string) => {
    for (let i = 0; i < perProducer; ) {
      const batch = Array.from({ length: Math.min(1 + (i % 3), perProducer - i) }, (_, k) => event(`${tag}-${i + k}`));
      await q.enqueue(batch);
      i += batch.length;
    }
  };
  let acked = 0;
  let dropSeq = 0;
  const dropped = new Map<string, number>(); // id -> droppedAt
  let redelivered = 0;
  const settled = new Set<string>();
  const consume = async (q: NatsAsyncQueue) => {
    for (let idle = 0; settled.size < total && idle < 400; ) {
      const got: LeasedEvent[] = await q.lease(LANE, 4, Date.now(), 60_000);
      if (got.length === 0) {
        idle++;
        await sleep(10);
        continue;
      }
      idle = 0;
      await Promise.all(
        got.map(async (e) => {
          if (e.redelivered) redelivered++;
          if (Number(e.id.split("-")[1]) % 10 === 0) {
            const at = ++dropSeq;
            if (await q.dead(e, "RetriesExhausted", at, { counters: { dropped: 1, droppedRetriesExhausted: 1 } })) dropped.set(e.id, at);
          } else if (await q.ack(e, { counters: { succeeded: 1 } })) acked++;
          settled.add(e.id);
        }),
      );
    }
  };
  await Promise.all([produce(q1, "a"), produce(q2, "b"), consume(q1), consume(q2), consume(q1), consume(q2)]);
  assert.equal(settled.size, total, "every event settled");
  assert.equal(redelivered, 0);
  assert.equal(acked + dropped.size, total);
  // A third instance reads what the two wrote (sum of per-instance records).
  const q3 = await openNatsQueue(await connectTo(2), { replicas: 3, ...names });
  const st = await q3.stats(LANE, Date.now());
  assert.equal(st.depth, 0);
  assert.equal(st.counters.received, total);
  assert.equal(st.counters.succeeded, acked);
  assert.equal(st.counters.dropped, dropped.size);
  assert.equal(st.counters.droppedRetriesExhausted, dropped.size);
  assert.equal(st.counters.redelivered, 0);
  const newest = [...dropped].sort((a, b) => b[1] - a[1]).slice(0, RECENT_DROPS_SHOWN);
  assert.deepEqual(
    st.recentDrops.map((d: DroppedEvent) => [d.id, d.droppedAt]),
    newest,
    "the newest drops of both instances, newest first",
  );
  await Promise.all([q1, q2, q3].map((q) => q.close()));
});

test("nats cluster (replicas 3): stopping the stream leader while enqueuing and leasing loses nothing acknowledged", { timeout: 120_000 }, async (t) => {
  const q1 = await openNatsQueue(await nats.connect(), { replicas: 3 });
  const q2 = await openNatsQueue(await nats.connect(), { replicas: 3 });
  const accepted = new Set<string>();
  const done = new Set<string>();
  let okAcks = 0;
  let failedAcks = 0;
  let stopProducing = false;
  let stopConsuming = false;
  const producer = async (q: NatsAsyncQueue, tag: string) => {
    for (let i = 0; !stopProducing; i++) {
      const id = `${tag}-${i}`;
      try {
        await q.enqueue([event(id)]);
        accepted.add(id);
      } catch {
        await sleep(50); // not accepted: the client would retry with the same id
      }
    }
  };
  const consumer = async (q: NatsAsyncQueue) => {
    while (!stopConsuming) {
      try {
        const got = await q.lease(LANE, 8, Date.now(), 3000);
        if (got.length === 0) await sleep(20);
        for (const e of got) {
          try {
            if (await q.ack(e, { counters: { succeeded: 1 } })) {
              done.add(e.id);
              okAcks++;
            }
          } catch {
            failedAcks++; // may have counted `succeeded` before failing: the event comes back and counts again
          }
        }
      } catch {
        await sleep(100); // failover in progress; unsettled leases expire and come back
      }
    }
  };
  const work = [producer(q1, "a"), producer(q2, "b"), consumer(q1), consumer(q2)];
  const stopAll = async () => {
    stopProducing = stopConsuming = true;
    await Promise.all(work);
  };
  t.after(stopAll); // a failed assertion must not leave the loops running (the file would never end)
  await sleep(1500);
  const jsm = await jetstreamManager(await nats.connect());
  const leader = (await jsm.streams.info("KILN_ASYNC")).cluster?.leader;
  assert.ok(leader, "the stream has a leader");
  const before = accepted.size;
  const killedAt = Date.now();
  await nats.stop(leader, "SIGKILL");
  // Enqueues resume once the stream and the bucket have new leaders (seconds; more on a loaded machine).
  while (accepted.size <= before && Date.now() - killedAt < 30_000) await sleep(100);
  const resumedMs = Date.now() - killedAt;
  await sleep(2000);
  stopProducing = true;
  await Promise.all(work.slice(0, 2));
  assert.ok(accepted.size > before, `enqueues went on after the leader died (${before} -> ${accepted.size})`);
  t.diagnostic(`enqueues resumed ${resumedMs} ms after the stream leader was killed`);
  // Drain: everything accepted is delivered (expired leases included), and the lane is empty (an
  // enqueue that failed after its publish was stored left an event the client never saw accepted).
  const until = Date.now() + 60_000;
  const empty = async () => (await q1.stats(LANE, Date.now()).catch(() => undefined))?.depth === 0;
  while (Date.now() < until && ([...accepted].some((id) => !done.has(id)) || !(await empty()))) await sleep(200);
  t.diagnostic(`drained ${Date.now() - (until - 60_000)} ms after the producers stopped`);
  stopConsuming = true;
  await Promise.all(work.slice(2));
  const missing = [...accepted].filter((id) => !done.has(id));
  assert.deepEqual(missing, [], `${missing.length} of ${accepted.size} accepted events were never delivered`);
  let read = await q1.stats(LANE, Date.now()).catch(() => undefined);
  for (let i = 0; !read && i < 20; i++) read = await sleep(500).then(() => q1.stats(LANE, Date.now()).catch(() => undefined)); // reads retried while the cluster settles
  assert.ok(read);
  let st: LaneStats = read;
  // A counter put that failed during the failover is stored again within a second (counters.ts).
  for (let i = 0; st.counters.received !== done.size && i < 10; i++) st = await sleep(500).then(() => q1.stats(LANE, Date.now()).catch(() => st));
  assert.equal(st.depth, 0);
  t.diagnostic(`received counter ${st.counters.received}, accepted ${accepted.size}, delivered ${done.size}, succeeded ${st.counters.succeeded}, acks ${okAcks} (+${failedAcks} failed)`);
  // Every delivered event was counted received exactly once: the accepted ones, plus any whose
  // enqueue failed after the publish was stored (its count is stored by a later put).
  assert.equal(st.counters.received, done.size);
  assert.ok(st.counters.succeeded >= okAcks && st.counters.succeeded <= okAcks + failedAcks, `succeeded ${st.counters.succeeded} within [${okAcks}, ${okAcks + failedAcks}]`);
  await nats.start(leader);
});
