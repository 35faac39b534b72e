import { test } from "node:test";
import assert from "node:assert/strict";
import { LogCursor, type LogEvent } from "./log-cursor.js";

const ev = (eventId: string, timestamp: number): LogEvent => ({ eventId, timestamp, message: eventId });
const ids = (events: LogEvent[]): string[] => events.map((e) => e.eventId);

test("follow: polls from the newest timestamp and prints each event once", () => {
  const c = new LogCursor(50);
  assert.deepEqual(ids(c.accept([ev("e1", 100), ev("e2", 105)])), ["e1", "e2"]);
  assert.equal(c.startTime, 105);
  assert.deepEqual(ids(c.accept([ev("e2", 105), ev("e3", 105), ev("e4", 110)])), ["e3", "e4"]);
  assert.equal(c.startTime, 110);
  assert.deepEqual(ids(c.accept([ev("e4", 110)])), []);
  assert.deepEqual(ids(c.accept([])), []);
  assert.equal(c.startTime, 110);
});

test("follow: sorts by time, drops duplicates within a batch and events before the cursor", () => {
  const c = new LogCursor(100);
  assert.deepEqual(ids(c.accept([ev("b", 120), ev("old", 90), ev("a", 110), ev("b", 120)])), ["a", "b"]);
});
