import { test } from "node:test";
import assert from "node:assert/strict";
import { formatTable, shortTimestamp } from "./format.js";
import { parseSince } from "./duration.js";

test("tables align columns and do not pad the last one", () => {
  const t = formatTable(["NAME", "RUNTIME", "STATE"], [["hello", "nodejs20.x", "Active"], ["a", "python3.11", "Pending"]]);
  assert.equal(t, "NAME   RUNTIME     STATE\nhello  nodejs20.x  Active\na      python3.11  Pending");
});

test("Lambda timestamps are shortened to UTC seconds", () => {
  assert.equal(shortTimestamp("2024-01-02T03:04:05.123+0000"), "2024-01-02 03:04:05 UTC");
  assert.equal(shortTimestamp("yesterday"), "yesterday");
  assert.equal(shortTimestamp(undefined), "-");
});

test("--since takes durations and ISO times", () => {
  const now = Date.UTC(2026, 0, 1, 12);
  assert.equal(parseSince("10m", now), now - 600_000);
  assert.equal(parseSince("1h30m", now), now - 5_400_000);
  assert.equal(parseSince("2d", now), now - 2 * 86_400_000);
  assert.equal(parseSince("2026-01-01T00:00:00Z", now), Date.UTC(2026, 0, 1));
  assert.equal(parseSince("10 minutes", now), undefined);
  assert.equal(parseSince("m", now), undefined);
});
