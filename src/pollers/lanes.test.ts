import { test } from "node:test";
import assert from "node:assert/strict";
import { LaneScheduler } from "./lanes.js";

const policy = { pollers: 4, backoffBaseMs: 1000, backoffMaxMs: 8000 };
const T = 1_000_000;
const obj = (m: Map<string, number>) => Object.fromEntries([...m].sort());

test("busy lanes take turns: a long backlog in one lane leaves pollers for the other", () => {
  const s = new LaneScheduler(policy);
  s.noteWork("a", T, T);
  s.noteWork("b", T, T);
  assert.deepEqual(obj(s.allocate(4, T)), { a: 2, b: 2 });
  s.leased("a", 2, 2);
  s.leased("b", 2, 1); // b had one event only: drained, one poller back
  assert.equal(s.inFlight, 3);
  assert.deepEqual(obj(s.allocate(1, T)), { a: 1 });
  s.leased("a", 1, 1);
  s.settled("b", "ok", T);
  s.settled("a", "ok", T);
  // b gets new work while a still has a backlog: b is served in the next round.
  s.noteWork("b", T, T);
  const next = s.allocate(2, T);
  assert.equal(next.get("b"), 1);
  assert.equal(next.get("a"), 1);
});

test("the starting lane rotates, so no lane always comes first", () => {
  const s = new LaneScheduler(policy);
  for (const l of ["a", "b", "c"]) s.noteWork(l, T, T);
  const firsts: string[] = [];
  for (let i = 0; i < 3; i++) {
    const got = s.allocate(1, T);
    const lane = [...got.keys()][0]!;
    firsts.push(lane);
    s.leased(lane, 1, 1);
    s.settled(lane, "ok", T);
  }
  assert.deepEqual([...firsts].sort(), ["a", "b", "c"]);
});

test("future work becomes eligible at its time; nextWakeAt says when", () => {
  const s = new LaneScheduler(policy);
  s.noteWork("a", T + 500, T);
  assert.equal(s.allocate(4, T).size, 0);
  assert.equal(s.nextWakeAt(T), T + 500);
  assert.deepEqual(obj(s.allocate(4, T + 500)), { a: 4 });
});

test("a throttle with others running caps the lane at what runs; successes raise the cap again", () => {
  const s = new LaneScheduler(policy);
  s.noteWork("a", T, T);
  s.allocate(4, T);
  s.leased("a", 4, 4);
  s.settled("a", "throttled", T); // 3 still running
  s.settled("a", "throttled", T); // 2 still running
  assert.equal(s.state("a")!.cap, 2);
  assert.equal(s.allocate(4, T).size, 0, "at its cap");
  s.settled("a", "ok", T);
  assert.equal(s.state("a")!.cap, 3);
  assert.deepEqual(obj(s.allocate(4, T)), { a: 2 }, "1 running, cap 3");
});

test("a throttle with nothing running pauses the lane with a doubling backoff, other lanes keep flowing", () => {
  const s = new LaneScheduler(policy);
  s.noteWork("a", T, T);
  s.noteWork("b", T, T);
  s.allocate(1, T); // one of them
  const lane = s.state("a")!.inFlight === 1 ? "a" : "b";
  const other = lane === "a" ? "b" : "a";
  s.leased(lane, 1, 1);
  s.settled(lane, "throttled", T);
  assert.equal(s.state(lane)!.pausedUntil, T + 1000);
  assert.deepEqual(obj(s.allocate(4, T)), { [other]: 4 });
  s.leased(other, 4, 4);
  for (let i = 0; i < 4; i++) s.settled(other, "ok", T);
  assert.equal(s.nextWakeAt(T), T + 1000);
  s.allocate(1, T + 1000);
  s.leased(lane, 1, 1);
  s.settled(lane, "throttled", T + 1000);
  assert.equal(s.state(lane)!.pausedUntil, T + 3000, "second pause is twice as long");
  s.allocate(1, T + 3000);
  s.leased(lane, 1, 1);
  s.settled(lane, "ok", T + 3000);
  assert.equal(s.state(lane)!.pausedUntil, 0);
  assert.equal(s.state(lane)!.pauseLevel, 0);
});

test("a scan replaces what the scheduler believed, and idle lanes are forgotten", () => {
  const s = new LaneScheduler(policy);
  s.noteWork("gone", T, T);
  s.sync([{ lane: "a", ready: 0, nextVisibleAt: T + 10 }, { lane: "b", ready: 3 }], T);
  assert.equal(s.state("gone"), undefined);
  assert.equal(s.state("a")!.hasWork, false);
  assert.deepEqual(obj(s.allocate(4, T)), { b: 4 });
  assert.equal(s.nextWakeAt(T), T + 10);
});

test("account-wide throttles rebalance: the busiest lane gives up a poller and does not grow until the starved lane ran", () => {
  const s = new LaneScheduler({ pollers: 3, backoffBaseMs: 200, backoffMaxMs: 1000 });
  s.noteWork("acct/hog", T, T);
  assert.deepEqual(obj(s.allocate(3, T)), { "acct/hog": 3 });
  s.leased("acct/hog", 3, 3);
  s.settled("acct/hog", "throttled-account", T); // the account allows 2
  assert.equal(s.state("acct/hog")!.cap, 2);
  s.noteWork("acct/quick", T, T);
  s.noteWork("other/x", T, T);
  assert.deepEqual(obj(s.allocate(1, T)), { "acct/quick": 1 }, "hog is at its cap");
  s.leased("acct/quick", 1, 1);
  s.settled("acct/quick", "throttled-account", T);
  assert.equal(s.state("acct/quick")!.starved, true);
  assert.equal(s.state("acct/hog")!.cap, 1, "the hog makes room");
  s.settled("acct/hog", "ok", T + 50);
  assert.equal(s.state("acct/hog")!.cap, 1, "no growth while quick waits");
  assert.equal(s.state("acct/quick")!.pausedUntil, T + 50, "a slot freed: quick may try again now");
  s.noteWork("acct/quick", T + 50, T + 50);
  const next = s.allocate(2, T + 50);
  assert.equal(next.get("acct/quick"), 1);
  assert.equal(next.get("acct/hog"), undefined);
  s.leased("acct/quick", 1, 1);
  s.settled("acct/quick", "ok", T + 60);
  s.settled("acct/hog", "ok", T + 70);
  assert.equal(s.state("acct/hog")!.cap, 2, "capped lanes grow by one per success once nobody starves");
  assert.equal(s.state("other/x")!.hasWork, true, "other accounts are unaffected");
});

test("work noted while a scan was under way survives the scan's older view", () => {
  const s = new LaneScheduler(policy);
  const mark = s.mark();
  s.noteWork("a", T, T); // accepted after the scan read the queue
  s.noteWork("b", T + 100, T);
  s.sync([], T, mark);
  assert.equal(s.state("a")!.hasWork, true);
  assert.equal(s.state("b")!.dueAt, T + 100);
  s.sync([], T, s.mark());
  assert.equal(s.state("a"), undefined, "a later scan is believed");
});

test("a lease that came back short does not hide work noted while it was under way", () => {
  const s = new LaneScheduler(policy);
  s.noteWork("a", T, T);
  s.allocate(2, T);
  const mark = s.mark();
  s.noteWork("a", T, T); // accepted while the lease was in the queue
  s.leased("a", 2, 0, mark);
  assert.equal(s.state("a")!.hasWork, true);
  s.allocate(1, T);
  s.leased("a", 1, 0, s.mark());
  assert.equal(s.state("a")!.hasWork, false);
});
