import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { quietLog } from "../workers/testkit.js";
import { LocalProcessProvider } from "./local-process.js";

const polite = "process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000);";
const stubborn = (flag: string) => `process.on('SIGTERM', () => {}); require('node:fs').writeFileSync(${JSON.stringify(flag)}, 'up'); setInterval(() => {}, 1000);`;


const providers: LocalProcessProvider[] = [];
after(() => Promise.all(providers.map((p) => p.close())));

test("starts worker processes with their ids and stops them with SIGTERM", async () => {
  const seen: string[][] = [];
  const p = new LocalProcessProvider({ command: process.execPath, args: (id) => (seen.push([id]), ["-e", polite, id]), log: quietLog, idPrefix: "lw", stdio: "ignore" });
  providers.push(p);
  const ids = await p.add(2);
  assert.equal(ids.length, 2);
  for (const id of ids) assert.match(id, /^lw-[0-9a-f]{8}$/);
  assert.deepEqual(seen.flat(), ids);
  assert.deepEqual((await p.list()).sort(), [...ids].sort());
  await p.remove(ids[0]!);
  assert.deepEqual(await p.list(), [ids[1]]);
  await p.remove("unknown");
});

test("remove() asks for a drain first, then SIGTERM, then SIGKILL for a process that will not stop", async () => {
  const drained: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), "kiln-lpp-"));
  const flag = join(dir, "up");
  const p = new LocalProcessProvider({ command: process.execPath, args: () => ["-e", stubborn(flag)], log: quietLog, stdio: "ignore", drain: async (id) => void drained.push(id), drainTimeoutMs: 200, killAfterMs: 300 });
  providers.push(p);
  const [id] = await p.add(1);
  for (let i = 0; i < 500 && !existsSync(flag); i++) await new Promise((r) => setTimeout(r, 20)); // its SIGTERM handler is installed
  rmSync(dir, { recursive: true, force: true });
  const started = Date.now();
  await p.remove(id!);
  assert.deepEqual(drained, [id]);
  assert.ok(Date.now() - started >= 450, "waited for the drain, then for SIGTERM");
  assert.deepEqual(await p.list(), []);
});

test("a worker that exits by itself leaves the list", async () => {
  const p = new LocalProcessProvider({ command: process.execPath, args: () => ["-e", "setTimeout(() => process.exit(3), 50)"], log: quietLog, stdio: "ignore" });
  providers.push(p);
  await p.add(1);
  for (let i = 0; i < 100 && (await p.list()).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(await p.list(), []);
});
