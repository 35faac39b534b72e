import { test } from "node:test";
import assert from "node:assert/strict";
import { duration, renderStatus } from "./status.js";

test("durations read like a person would say them", () => {
  assert.equal(duration(0), "0s");
  assert.equal(duration(59_999), "59s");
  assert.equal(duration(61_000), "1m01s");
  assert.equal(duration(14 * 3600_000 - 60_000), "13h59m");
});

test("status: live and gone nodes, partitions with and without a leader, workers with load and lease left", () => {
  const now = 1_000_000;
  const text = renderStatus({
    now,
    nodes: [
      { id: "f1", roles: ["frontend"], host: "h", pid: 1, url: "http://127.0.0.1:9900", startedAt: now - 120_000, seenAt: now - 1000, live: true },
      { id: "w9", roles: ["worker"], host: "h", pid: 2, workerUrl: "http://127.0.0.1:9901", startedAt: now - 60_000, seenAt: now - 30_000, live: false },
    ],
    leaders: [
      { partition: 0, nodeId: "a1", term: 3, expiresAt: now + 2000 },
      { partition: 1, nodeId: "a2", term: 1, expiresAt: now - 1 },
    ],
    capacity: { nodeId: "c1", term: 2, expiresAt: now + 1000 },
    workers: [{ id: "w1", url: "http://127.0.0.1:9901", state: "draining", totalMemoryMB: 4096, freeMemoryMB: 3968, runningSandboxes: 1, cpu: 0.25, leaseEndsAt: now + 3600_000, seenAt: now }],
  });
  assert.match(text, /^Nodes: 1 live, 1 not heard from/);
  assert.match(text, /f1\s+frontend\s+http:\/\/127\.0\.0\.1:9900\s+-\s+2m00s\s+1s ago/);
  assert.match(text, /w9 .*GONE 30s ago/);
  assert.match(text, /Assignment partitions: 1 with a leader/);
  assert.match(text, /0\s+a1\s+3\s+2s left/);
  assert.match(text, /1\s+a2\s+1\s+EXPIRED/);
  assert.match(text, /Capacity manager: on c1 \(term 2\)/);
  assert.match(text, /w1\s+draining\s+1\s+3968\/4096 MB\s+25%\s+1h00m/);
});
