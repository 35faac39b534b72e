/** Conformance suite for LogStore implementations (sqlite, nats). */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { LogStore } from "./contract.js";

const A = "111111111111";
const G = "/aws/lambda/f";

export function logStoreSuite(name: string, open: () => Promise<{ logs: LogStore; close: () => Promise<void> }>): void {
  test(`${name} logs: append, filter by time and stream, page with nextToken`, async () => {
    const { logs, close } = await open();
    logs.append(A, G, "s1", [
      { timestamp: 1000, message: "a" },
      { timestamp: 2000, message: "b" },
    ]);
    logs.append(A, G, "s2", [{ timestamp: 3000, message: "c" }]);
    logs.append("222222222222", G, "s1", [{ timestamp: 3000, message: "other account" }]);
    logs.append(A, "/aws/lambda/f2", "s1", [{ timestamp: 3000, message: "other group" }]);
    const all = await logs.filter(A, G, {});
    assert.deepEqual(all.events.map((e) => e.message), ["a", "b", "c"]);
    assert.deepEqual(all.events.map((e) => e.logStreamName), ["s1", "s1", "s2"]);
    assert.equal(new Set(all.events.map((e) => e.eventId)).size, 3);
    const late = await logs.filter(A, G, { startTime: 1500 });
    assert.deepEqual(late.events.map((e) => e.message), ["b", "c"]);
    const early = await logs.filter(A, G, { endTime: 2000 });
    assert.deepEqual(early.events.map((e) => e.message), ["a", "b"]);
    const s2 = await logs.filter(A, G, { streamNames: ["s2"] });
    assert.deepEqual(s2.events.map((e) => e.message), ["c"]);
    const both = await logs.filter(A, G, { streamNames: ["s2", "s1"] });
    assert.deepEqual(both.events.map((e) => e.message), ["a", "b", "c"]);
    assert.deepEqual((await logs.filter(A, G, { streamNames: ["nope"] })).events, []);
    const page1 = await logs.filter(A, G, { limit: 2 });
    assert.equal(page1.events.length, 2);
    assert.ok(page1.nextToken);
    const page2 = await logs.filter(A, G, { limit: 2, nextToken: page1.nextToken! });
    assert.deepEqual(page2.events.map((e) => e.message), ["c"]);
    assert.equal(page2.nextToken, undefined);
    assert.deepEqual((await logs.streams(A, G)).map((s) => s.logStreamName), ["s2", "s1"]);
    assert.deepEqual((await logs.streams(A, G)).find((s) => s.logStreamName === "s1"), { logStreamName: "s1", firstEventTimestamp: 1000, lastEventTimestamp: 2000 });
    await close();
  });

  test(`${name} logs: stream names with any characters; deleteGroup removes one group only`, async () => {
    const { logs, close } = await open();
    const stream = "2024/01/02/[$LATEST]abc.def";
    logs.append(A, G, stream, [{ timestamp: 10, message: "x" }]);
    logs.append(A, "/aws/lambda/g", "s", [{ timestamp: 20, message: "y" }]);
    await logs.flush();
    assert.deepEqual((await logs.filter(A, G, { streamNames: [stream] })).events.map((e) => e.logStreamName), [stream]);
    await logs.deleteGroup(A, G);
    assert.deepEqual((await logs.filter(A, G, {})).events, []);
    assert.deepEqual(await logs.streams(A, G), []);
    assert.deepEqual((await logs.filter(A, "/aws/lambda/g", {})).events.map((e) => e.message), ["y"]);
    await close();
  });
}
