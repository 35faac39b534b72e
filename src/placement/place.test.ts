import { test } from "node:test";
import assert from "node:assert/strict";
import { place, type WorkerLoad } from "./place.js";

const w = (id: string, free: number, ofF = 0, state: WorkerLoad["state"] = "active"): WorkerLoad => ({
  id,
  state,
  freeMemoryMB: free,
  sandboxesOf: (k) => (k === "f" ? ofF : 0),
});

test("the worked example: spread first, then best fit", () => {
  assert.equal(place({ configKey: "f", memoryMB: 128 }, [w("w1", 1000, 2), w("w2", 300), w("w3", 100)]), "w2");
});

test("best fit among equals, draining and full workers skipped, none fits -> undefined", () => {
  assert.equal(place({ configKey: "g", memoryMB: 128 }, [w("a", 1000), w("b", 500)]), "b");
  assert.equal(place({ configKey: "g", memoryMB: 128 }, [w("a", 1000, 0, "draining"), w("b", 100)]), undefined);
  assert.equal(place({ configKey: "g", memoryMB: 128 }, []), undefined);
});
