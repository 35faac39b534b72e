import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { asyncQueueSuite } from "../queue.case.js";
import { openSqliteQueue, type SqliteAsyncQueue } from "./queue.js";
import { RECENT_DROPS_KEPT } from "./store.js";

function scratch(): { file: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "kiln-queue-"));
  return { file: join(dir, "async.db"), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

asyncQueueSuite("sqlite", async () => {
  const { file, remove } = scratch();
  let current: SqliteAsyncQueue = await openSqliteQueue(file);
  return {
    queue: current,
    reopen: async () => {
      await current.close();
      current = await openSqliteQueue(file);
      return current;
    },
    close: async () => {
      await current.close();
      remove();
    },
  };
});

const T0 = 1_767_225_600_000;
const target = { accountId: "000000000000", functionName: "f" };
const event = (id: string) => ({ id, target, payload: Buffer.from("{}"), receivedAt: T0, source: "invoke" as const });

test("sqlite: a burst of enqueues shares a few commits (group commit)", async () => {
  const { file, remove } = scratch();
  const q = await openSqliteQueue(file);
  const before = await q.commits();
  await Promise.all(Array.from({ length: 200 }, (_, i) => q.enqueue([event(`e${i}`)])));
  const took = (await q.commits()) - before;
  assert.ok(took <= 5, `200 enqueues took ${took} commits`);
  assert.equal((await q.stats("000000000000/f", T0)).depth, 200);
  await q.close();
  remove();
});

test("sqlite: leases left by a crashed process are released at open and counted as redeliveries", async () => {
  const { file, remove } = scratch();
  const q = await openSqliteQueue(file);
  await q.enqueue([event("a"), event("b")]);
  const leased = await q.lease("000000000000/f", 1, T0, 15 * 60_000);
  assert.equal(leased.length, 1);
  await q.close(); // the lease is never settled: as if the process died
  const q2 = await openSqliteQueue(file, { releaseLeasesAt: T0 + 5 });
  assert.equal(q2.releasedAtOpen, 1);
  const again = await q2.lease("000000000000/f", 10, T0 + 5, 60_000);
  assert.deepEqual(again.map((e) => [e.id, e.redelivered]).sort(), [
    ["a", true],
    ["b", false],
  ]);
  assert.equal((await q2.stats("000000000000/f", T0)).counters.redelivered, 1);
  await q2.close();
  remove();
});

test("sqlite: each lane keeps its most recent drops only", async () => {
  const { file, remove } = scratch();
  const q = await openSqliteQueue(file);
  const n = RECENT_DROPS_KEPT + 20;
  await q.enqueue(Array.from({ length: n }, (_, i) => event(`d${i}`)));
  const all = await q.lease("000000000000/f", n, T0, 60_000);
  await Promise.all(all.map((e, i) => q.dead(e, "EventAgeExceeded", T0 + i)));
  const st = await q.stats("000000000000/f", T0);
  assert.equal(st.counters.dropped, 0, "counters are the caller's to increment");
  assert.equal(st.recentDrops[0]!.id, `d${n - 1}`);
  await q.close();
  const db = (await import("better-sqlite3")).default(file);
  assert.equal((db.prepare("SELECT COUNT(*) AS n FROM async_dropped").get() as { n: number }).n, RECENT_DROPS_KEPT);
  db.close();
  remove();
});
