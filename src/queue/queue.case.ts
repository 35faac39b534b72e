/** Conformance suite for AsyncEventQueue implementations (sqlite now, JetStream later). */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { AsyncEventQueue, NewEvent } from "./contract.js";

export interface OpenedQueue {
  queue: AsyncEventQueue;
  /** Closes and opens the same storage again (durability checks), when the implementation can. */
  reopen?: () => Promise<AsyncEventQueue>;
  close: () => Promise<void>;
  /**
   * The implementation's lease expiries and retry delays run on real time (JetStream's AckWait and
   * NAK delays are server timers): the suite then starts each test at the current time, waits for
   * the moments it checks after an expiry or a retry time, and uses a shorter retry delay. The
   * checks stay the same; only the clock under them is real. Without it, time is the `now` passed.
   */
  realTime?: boolean;
}

const FIXED_T0 = 1_767_225_600_000; // 2026-01-01
/** The start of the current test: FIXED_T0, or the wall clock for a real-time implementation. */
let T0 = FIXED_T0;
let REAL = false;
const LEASE = 60_000;
/** Slack for a server timer that fires a little after its time. */
const SLACK_MS = 150;

/** Opens the queue under test and sets the test's start time. */
async function begin(open: () => Promise<OpenedQueue>): Promise<OpenedQueue> {
  const o = await open();
  REAL = o.realTime === true;
  T0 = REAL ? Date.now() : FIXED_T0;
  return o;
}

/** On a real-time implementation, waits until the wall clock passed `t` (plus slack); returns `t`. */
async function reach(t: number): Promise<number> {
  if (REAL) while (Date.now() < t + SLACK_MS) await new Promise((r) => setTimeout(r, Math.max(1, t + SLACK_MS - Date.now())));
  return t;
}

let seq = 0;
function ev(fn: string, over: Partial<NewEvent> = {}): NewEvent {
  seq++;
  return {
    id: `req-${seq}`,
    target: { accountId: "000000000000", functionName: fn },
    payload: Buffer.from(JSON.stringify({ n: seq })),
    receivedAt: T0,
    source: "invoke",
    ...over,
  };
}
const LANE = (fn: string) => `000000000000/${fn}`;

export function asyncQueueSuite(name: string, open: () => Promise<OpenedQueue>): void {
  test(`${name}: enqueue then lease oldest first, up to n; leased events are hidden`, async () => {
    const { queue, close } = await begin(open);
    const events = [ev("a", { receivedAt: T0 }), ev("a", { receivedAt: T0 + 1 }), ev("a", { receivedAt: T0 + 2 })];
    await queue.enqueue(events);
    const first = await queue.lease(LANE("a"), 2, T0 + 10, LEASE);
    assert.deepEqual(first.map((e) => e.id), [events[0]!.id, events[1]!.id]);
    assert.equal(first[0]!.attempts, 0);
    assert.equal(first[0]!.redelivered, false);
    assert.deepEqual(first[0]!.target, events[0]!.target);
    assert.equal(first[0]!.source, "invoke");
    const second = await queue.lease(LANE("a"), 5, T0 + 10, LEASE);
    assert.deepEqual(second.map((e) => e.id), [events[2]!.id]);
    assert.deepEqual(await queue.lease(LANE("a"), 5, T0 + 10, LEASE), []);
    const [summary] = await queue.lanes(T0 + 10);
    assert.deepEqual({ ...summary, nextVisibleAt: undefined }, { lane: LANE("a"), depth: 3, ready: 0, inFlight: 3, oldestReceivedAt: T0, nextVisibleAt: undefined });
    assert.equal((await queue.stats(LANE("a"), T0)).counters.received, 3);
    await close();
  });

  test(`${name}: payload bytes and ids round-trip exactly; lanes are independent`, async () => {
    const { queue, close } = await begin(open);
    const bin = Buffer.from([0, 255, 1, 254, 10, 13]);
    const a = ev("x", { payload: bin, target: { accountId: "000000000000", functionName: "x", qualifier: "live" } });
    const b = ev("y");
    await queue.enqueue([a, b]);
    const got = await queue.lease(LANE("x"), 10, T0, LEASE);
    assert.equal(got.length, 1);
    assert.deepEqual(Buffer.from(got[0]!.payload), bin);
    assert.equal(got[0]!.target.qualifier, "live");
    assert.equal(got[0]!.lane, LANE("x"));
    assert.deepEqual((await queue.lease(LANE("y"), 10, T0, LEASE)).map((e) => e.id), [b.id]);
    assert.deepEqual((await queue.lanes(T0)).map((l) => l.lane).sort(), [LANE("x"), LANE("y")]);
    await close();
  });

  test(`${name}: ack removes the event once; a stale or repeated ack changes nothing`, async () => {
    const { queue, close } = await begin(open);
    await queue.enqueue([ev("a")]);
    const [e] = await queue.lease(LANE("a"), 1, T0, LEASE);
    assert.equal(await queue.ack({ ...e!, receipt: e!.receipt + 1 }), false);
    assert.equal(await queue.ack(e!, { counters: { succeeded: 1 } }), true);
    assert.equal(await queue.ack(e!, { counters: { succeeded: 1 } }), false);
    const st = await queue.stats(LANE("a"), T0);
    assert.equal(st.depth, 0);
    assert.equal(st.counters.succeeded, 1);
    assert.deepEqual(await queue.lanes(T0), []);
    await close();
  });

  test(`${name}: retryAt hides the event until its time and keeps its id and retry state`, async () => {
    const { queue, close } = await begin(open);
    const orig = ev("a");
    await queue.enqueue([orig]);
    const [e] = await queue.lease(LANE("a"), 1, T0, LEASE);
    const D = REAL ? 1500 : 60_000;
    assert.equal(await queue.retryAt(e!, T0 + D, { attempts: 1, backoffs: 0, lastError: "Unhandled: boom" }, { counters: { retries: 1, functionErrors: 1 } }), true);
    assert.equal(await queue.ack(e!), false, "a settled lease cannot be settled again");
    assert.deepEqual(await queue.lease(LANE("a"), 1, T0 + D - 1, LEASE), []);
    const [l] = await queue.lanes(T0 + 1);
    assert.equal(l!.nextVisibleAt, T0 + D);
    assert.equal(l!.inFlight, 0);
    const [again] = await queue.lease(LANE("a"), 1, await reach(T0 + D), LEASE);
    assert.equal(again!.id, orig.id);
    assert.equal(again!.attempts, 1);
    assert.equal(again!.lastError, "Unhandled: boom");
    assert.equal(again!.redelivered, false);
    assert.ok(again!.receipt > e!.receipt);
    const st = await queue.stats(LANE("a"), T0);
    assert.equal(st.counters.retries, 1);
    assert.equal(st.counters.redelivered, 0);
    await close();
  });

  test(`${name}: an expired lease is delivered again and counted; the old lease can no longer settle`, async () => {
    const { queue, close } = await begin(open);
    await queue.enqueue([ev("a")]);
    const [first] = await queue.lease(LANE("a"), 1, T0, 1000);
    assert.deepEqual(await queue.lease(LANE("a"), 1, T0 + 999, 1000), []);
    const [second] = await queue.lease(LANE("a"), 1, await reach(T0 + 1000), 1000);
    assert.equal(second!.id, first!.id);
    assert.equal(second!.redelivered, true);
    assert.equal(await queue.ack(first!), false);
    assert.equal(await queue.ack(second!), true);
    assert.equal((await queue.stats(LANE("a"), T0)).counters.redelivered, 1);
    await close();
  });

  test(`${name}: dead removes the event and remembers why; follow-ups are enqueued in the same step`, async () => {
    const { queue, close } = await begin(open);
    await queue.enqueue([ev("a")]);
    const [e] = await queue.lease(LANE("a"), 1, T0, LEASE);
    await queue.retryAt(e!, T0, { attempts: 3, backoffs: 0 });
    const [e2] = await queue.lease(LANE("a"), 1, T0, LEASE);
    const record = ev("dest", { source: "destination" });
    const letter = ev("dlq", { source: "dead-letter" });
    assert.equal(await queue.dead(e2!, "RetriesExhausted", T0 + 5, { followUps: [record, letter], counters: { dropped: 1, droppedRetriesExhausted: 1 } }), true);
    assert.equal(await queue.dead(e2!, "RetriesExhausted", T0 + 5, { followUps: [ev("dest")] }), false, "a stale settle enqueues nothing");
    const st = await queue.stats(LANE("a"), T0 + 5);
    assert.equal(st.depth, 0);
    assert.equal(st.counters.dropped, 1);
    assert.equal(st.counters.droppedRetriesExhausted, 1);
    assert.deepEqual(st.recentDrops, [{ id: e2!.id, reason: "RetriesExhausted", droppedAt: T0 + 5, attempts: 3 }]);
    const [d] = await queue.lease(LANE("dest"), 10, T0 + 5, LEASE);
    assert.equal(d!.id, record.id);
    assert.equal(d!.source, "destination");
    assert.equal((await queue.lease(LANE("dlq"), 10, T0 + 5, LEASE))[0]!.source, "dead-letter");
    assert.equal((await queue.stats(LANE("dest"), T0)).counters.received, 1);
    await close();
  });

  test(`${name}: an unknown lane has zero counters and no events`, async () => {
    const { queue, close } = await begin(open);
    const st = await queue.stats(LANE("nothing"), T0);
    assert.equal(st.depth, 0);
    assert.equal(st.ready, 0);
    assert.equal(st.oldestReceivedAt, undefined);
    assert.equal(st.counters.received, 0);
    assert.deepEqual(st.recentDrops, []);
    await close();
  });

  test(`${name}: concurrent enqueues all land; a failing one rejects alone`, async () => {
    const { queue, close } = await begin(open);
    const many = Array.from({ length: 300 }, () => ev("burst"));
    const dup = { ...many[0]!, payload: Buffer.from("{}") };
    const results = await Promise.allSettled([...many.map((e) => queue.enqueue([e])), queue.enqueue([dup])]);
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 300);
    assert.equal(results[300]!.status, "rejected", "an id is accepted once");
    assert.equal((await queue.stats(LANE("burst"), T0)).depth, 300);
    assert.equal((await queue.stats(LANE("burst"), T0)).counters.received, 300);
    await close();
  });

  test(`${name}: accepted events survive a reopen`, async (t) => {
    const { queue, reopen, close } = await begin(open);
    if (!reopen) return t.skip("no reopen for this implementation");
    const e = ev("durable");
    await queue.enqueue([e]);
    const again = await reopen();
    const [got] = await again.lease(LANE("durable"), 1, T0, LEASE);
    assert.equal(got!.id, e.id);
    assert.deepEqual(Buffer.from(got!.payload), e.payload);
    await close();
  });
}
