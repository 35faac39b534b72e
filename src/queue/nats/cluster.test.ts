import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import { startNats, type NatsCluster } from "../../../test/support/nats.js";
import type { NewEvent } from "../contract.js";
import { openNatsQueue, type NatsAsyncQueue } from "./queue.js";

let nats: NatsCluster;
before(async () => {
  nats = await startNats(3);
});
after(async () => {
  await nats?.close();
});

const LANE = "000000000000/f";
const target = { accountId: "000000000000", functionName: "f" };
const event = (id: string): NewEvent => ({ id, target, payload: Buffer.from(id), receivedAt: Date.now(), source: "invoke" });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("nats cluster (replicas 3): stopping the stream leader while enqueuing and leasing loses nothing acknowledged", { timeout: 120_000 }, async (t) => {
  const q1 = await openNatsQueue(await nats.connect(), { replicas: 3 });
  const q2 = await openNatsQueue(await nats.connect(), { replicas: 3 });
  const accepted = new Set<string>();
  const done = new Set<string>();
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
        for (const e of got) if (await q.ack(e)) done.add(e.id);
      } catch {
        await sleep(100); // failover in progress; unsettled leases expire and come back
      }
    }
  };
  const work = [producer(q1, "a"), producer(q2, "b"), consumer(q1), consumer(q2)];
  await sleep(1500);
  const jsm = await jetstreamManager(await nats.connect());
  const leader = (await jsm.streams.info("KILN_ASYNC")).cluster?.leader;
  assert.ok(leader, "the stream has a leader");
  const before = accepted.size;
  await nats.stop(leader, "SIGKILL");
  await sleep(4000);
  stopProducing = true;
  await Promise.all(work.slice(0, 2));
  assert.ok(accepted.size > before, `enqueues went on after the leader died (${before} -> ${accepted.size})`);
  // Drain: everything accepted is delivered (expired leases included).
  const until = Date.now() + 60_000;
  while (Date.now() < until && [...accepted].some((id) => !done.has(id))) await sleep(200);
  stopConsuming = true;
  await Promise.all(work.slice(2));
  const missing = [...accepted].filter((id) => !done.has(id));
  assert.deepEqual(missing, [], `${missing.length} of ${accepted.size} accepted events were never delivered`);
  let st = await q1.stats(LANE, Date.now()).catch(() => undefined);
  for (let i = 0; !st && i < 20; i++) st = await sleep(500).then(() => q1.stats(LANE, Date.now()).catch(() => undefined)); // reads retried while the cluster settles
  assert.ok(st);
  assert.equal(st.depth, 0);
  // KNOWN ISSUE (nats-server 2.9.10, replicated KV): concurrent compare-and-set updates of one key
  // from two processes can both succeed, so counters under-count under contention (seen even
  // without a failover). Events are not affected (asserted above); the counter gap is reported.
  t.diagnostic(`received counter ${st.counters.received}, accepted ${accepted.size}, delivered ${done.size}`);
  assert.ok(st.counters.received > 0);
  await nats.start(leader);
});
