import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { metadataStoreSuite } from "../store.case.js";
import { openSqliteStores, type SqliteStores } from "./index.js";

metadataStoreSuite("sqlite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kiln-store-"));
  const file = join(dir, "kiln.db");
  const opened: SqliteStores[] = [openSqliteStores(file)];
  return {
    store: opened[0]!.metadata,
    reopen: async () => {
      await opened[0]!.close();
      const s = openSqliteStores(file);
      opened.push(s);
      return s.metadata;
    },
    close: async () => {
      for (const s of opened.slice(opened.length > 1 ? 1 : 0)) await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

test("sqlite logs: append, filter by time and stream, page with nextToken", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kiln-logs-"));
  const stores = openSqliteStores(join(dir, "kiln.db"));
  stores.logs.append("111111111111", "/aws/lambda/f", "s1", [
    { timestamp: 1000, message: "a" },
    { timestamp: 2000, message: "b" },
  ]);
  stores.logs.append("111111111111", "/aws/lambda/f", "s2", [{ timestamp: 3000, message: "c" }]);
  stores.logs.append("222222222222", "/aws/lambda/f", "s1", [{ timestamp: 3000, message: "other account" }]);
  const all = await stores.logs.filter("111111111111", "/aws/lambda/f", {});
  assert.deepEqual(all.events.map((e) => e.message), ["a", "b", "c"]);
  const late = await stores.logs.filter("111111111111", "/aws/lambda/f", { startTime: 1500 });
  assert.deepEqual(late.events.map((e) => e.message), ["b", "c"]);
  const s2 = await stores.logs.filter("111111111111", "/aws/lambda/f", { streamNames: ["s2"] });
  assert.deepEqual(s2.events.map((e) => e.message), ["c"]);
  const page1 = await stores.logs.filter("111111111111", "/aws/lambda/f", { limit: 2 });
  assert.equal(page1.events.length, 2);
  assert.ok(page1.nextToken);
  const page2 = await stores.logs.filter("111111111111", "/aws/lambda/f", { limit: 2, nextToken: page1.nextToken! });
  assert.deepEqual(page2.events.map((e) => e.message), ["c"]);
  assert.deepEqual((await stores.logs.streams("111111111111", "/aws/lambda/f")).map((s) => s.logStreamName), ["s2", "s1"]);
  await stores.close();
  rmSync(dir, { recursive: true, force: true });
});
