import { test } from "node:test";
import assert from "node:assert/strict";
import { zeroCounters, type DroppedEvent } from "../contract.js";
import { addCounters, newestDrops, OwnedRecords, RECENT_DROPS_KEPT, sumCounters, withDrop } from "./counters.js";

const drop = (id: string, droppedAt: number): DroppedEvent => ({ id, reason: "RetriesExhausted", droppedAt, attempts: 3 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("counters: the lane's counters are the sum of every instance's record; junk fields are ignored", () => {
  const a = addCounters(zeroCounters(), { received: 2, succeeded: 1 });
  const b = { received: 3, dropped: 1, bogus: 7, succeeded: "x" };
  const sum = sumCounters([a, b, null, "junk"]);
  assert.equal(sum.received, 5);
  assert.equal(sum.succeeded, 1);
  assert.equal(sum.dropped, 1);
  assert.equal((sum as Record<string, number>)["bogus"], undefined);
  assert.deepEqual(sumCounters([]), zeroCounters());
});

test("counters: drops are kept newest first and bounded per instance, merged newest first across instances", () => {
  let list: DroppedEvent[] = [];
  for (let i = 1; i <= RECENT_DROPS_KEPT + 5; i++) list = withDrop(list, drop(`a${i}`, i));
  assert.equal(list.length, RECENT_DROPS_KEPT);
  assert.equal(list[0]!.id, `a${RECENT_DROPS_KEPT + 5}`);
  const merged = newestDrops([[drop("a3", 30), drop("a1", 10)], [drop("b2", 20)], "junk"], 2);
  assert.deepEqual(merged.map((d) => d.id), ["a3", "b2"]);
});

/** A KV double recording puts; `fail` makes the next puts throw; `gate` holds a put until released. */
function fakeKv() {
  const puts: Array<{ key: string; value: unknown }> = [];
  let failing = 0;
  let gate: Promise<void> | undefined;
  return {
    puts,
    failNext(n: number) {
      failing = n;
    },
    hold(): () => void {
      let open!: () => void;
      gate = new Promise((r) => (open = r));
      return () => {
        gate = undefined;
        open();
      };
    },
    async put(key: string, data: string | Uint8Array): Promise<number> {
      if (gate) await gate;
      if (failing > 0) {
        failing--;
        throw new Error("timeout");
      }
      puts.push({ key, value: JSON.parse(String(data)) });
      return puts.length;
    },
  };
}

test("counters: changes to one key are coalesced while a put is in flight, and each put holds the whole value", async () => {
  const kv = fakeKv();
  const owned = new OwnedRecords(kv, 10);
  const release = kv.hold();
  const first = owned.change("c.t.a", zeroCounters, (c) => addCounters(c, { received: 1 }));
  const rest = Array.from({ length: 50 }, () => owned.change("c.t.a", zeroCounters, (c) => addCounters(c, { received: 1 })));
  release();
  await Promise.all([first, ...rest]);
  assert.ok(kv.puts.length <= 3, `${kv.puts.length} puts for 51 changes`);
  assert.equal((kv.puts.at(-1)!.value as { received: number }).received, 51);
});

test("counters: a failed put rejects its waiters, keeps the change, and stores it again later without a new change", async () => {
  const kv = fakeKv();
  const owned = new OwnedRecords(kv, 20);
  kv.failNext(1);
  await assert.rejects(owned.change("c.t.a", zeroCounters, (c) => addCounters(c, { received: 2 })), /timeout/);
  assert.equal(kv.puts.length, 0);
  await sleep(100);
  assert.equal(kv.puts.length, 1, "stored again after restoreAfterMs");
  assert.equal((kv.puts[0]!.value as { received: number }).received, 2);
  await owned.change("c.t.a", zeroCounters, (c) => addCounters(c, { received: 1 }));
  assert.equal((kv.puts.at(-1)!.value as { received: number }).received, 3, "nothing counted twice");
  owned.close();
});
