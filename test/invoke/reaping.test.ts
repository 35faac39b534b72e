/** Idle execution environments are reaped after the keep-alive; the next invoke is a cold start again. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { InvokeCommand } from "@aws-sdk/client-lambda";
import { startKiln, type TestKiln } from "../support/kiln.js";

let k: TestKiln;
before(async () => {
  k = await startKiln({ keepAliveMs: 1000 });
});
after(async () => k.stop());

test("an idle environment is reaped after the keep-alive and its sandbox is gone", async () => {
  await k.deploy("brief", "nodejs20.x", "index.handler", { "index.js": "exports.handler = async () => process.pid;" });
  const c = k.client();
  const tail = async () => Buffer.from((await c.send(new InvokeCommand({ FunctionName: "brief", LogType: "Tail" }))).LogResult ?? "", "base64").toString();
  assert.match(await tail(), /Init Duration/);
  assert.equal(k.kiln.worker.environmentCount, 1);
  const pids = k.kiln.worker.pids();
  assert.equal(pids.length, 1);
  const deadline = Date.now() + 15_000;
  while (k.kiln.worker.environmentCount > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  assert.equal(k.kiln.worker.environmentCount, 0, "the idle environment was reaped");
  assert.throws(() => process.kill(pids[0]!, 0), /ESRCH/, "its sandbox process is gone");
  assert.match(await tail(), /Init Duration/, "the next invoke is a cold start");
});
