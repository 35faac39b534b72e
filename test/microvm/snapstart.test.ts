/**
 * SnapStart on micro-VMs end to end (`kiln server --isolation microvm`, the AWS SDK): PublishVersion
 * snapshots the initialized VM; concurrent cold starts of the version restore clones of it, each
 * with its own randomness (kernel, Math.random, crypto) and a Restore Duration in its REPORT; a
 * python3.11 version too (the whole VM is saved, so any runtime can be snapshotted).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { GetFunctionConfigurationCommand, InvokeCommand, PublishVersionCommand, type FunctionConfiguration, type LambdaClient } from "@aws-sdk/client-lambda";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { json, startKiln, type TestKiln } from "../support/kiln.js";

let k: TestKiln;
let c: LambdaClient;

before(async () => {
  k = await startKiln({ isolation: "microvm", poolMax: 0 });
  c = k.client();
});
after(async () => k.stop());

// Under TCG on a loaded 2-core machine three clones restoring at once can take seconds to answer:
// a generous timeout keeps the test about snapshots, not about emulation speed.
const SNAP = { SnapStart: { ApplyOn: "PublishedVersions" as const }, Timeout: 60 };

const invoke = async (name: string, qualifier: string | undefined) => {
  const t0 = performance.now();
  const r = await c.send(new InvokeCommand({ FunctionName: name, Qualifier: qualifier, Payload: Buffer.from("{}"), LogType: "Tail" }));
  return { ms: performance.now() - t0, error: r.FunctionError, body: json(r.Payload) as any, log: Buffer.from(r.LogResult ?? "", "base64").toString() };
};

async function publish(name: string): Promise<FunctionConfiguration> {
  const published = await c.send(new PublishVersionCommand({ FunctionName: name }));
  let active: FunctionConfiguration = published;
  for (let i = 0; i < 1800 && active.State === "Pending"; i++) {
    await new Promise((r) => setTimeout(r, 100));
    active = await c.send(new GetFunctionConfigurationCommand({ FunctionName: name, Qualifier: published.Version }));
  }
  return active;
}

test("nodejs20.x: PublishVersion snapshots the VM; concurrent cold starts restore distinct clones", async (t) => {
  await k.deploy(
    "vm-snap-node",
    "nodejs20.x",
    "index.handler",
    {
      "index.mjs": `import crypto from "node:crypto"; import fs from "node:fs";
        const initAt = Date.now(); Math.random(); crypto.randomUUID();
        export const handler = async () => ({ initAt, uuid: crypto.randomUUID(), random: Math.random(), bytes: crypto.randomBytes(8).toString("hex"),
          kernel: fs.readFileSync("/proc/sys/kernel/random/uuid", "utf8").trim() });`,
    },
    SNAP,
  );
  const t0 = performance.now();
  const v = await publish("vm-snap-node");
  assert.deepEqual(v.SnapStart, { ApplyOn: "PublishedVersions", OptimizationStatus: "On" }, v.StateReason);
  t.diagnostic(`PublishVersion to Active (boot + init + VM snapshot): ${(performance.now() - t0).toFixed(0)} ms`);
  const runs = await Promise.all([1, 2, 3].map(() => invoke("vm-snap-node", v.Version)));
  for (const r of runs) {
    assert.equal(r.error, undefined, JSON.stringify(r.body));
    assert.match(r.log, /Restore Duration: [\d.]+ ms/);
    t.diagnostic(`restored clone: first response ${r.ms.toFixed(0)} ms; ${/Restore Duration: [\d.]+ ms/.exec(r.log)?.[0]}`);
  }
  assert.equal(new Set(runs.map((r) => r.body.initAt)).size, 1, "all three are clones of one initialized VM");
  for (const key of ["uuid", "random", "bytes", "kernel"]) assert.equal(new Set(runs.map((r) => r.body[key])).size, 3, `${key} differs in every clone`);

  // The first clone recorded the page-access log after its first invocation; later cold starts
  // (beyond the three warm environments) prefetch it while QEMU starts.
  const snapshots = join(k.dataDir, "snapshots");
  let log: string | undefined;
  for (let i = 0; i < 300 && !log; i++) {
    log = readdirSync(snapshots).map((d) => join(snapshots, d, "pages.log")).find((p) => existsSync(p));
    if (!log) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(log, "a page-access log was recorded");
  const pages = readFileSync(log, "utf8").trim().split("\n").length;
  const more = await Promise.all([1, 2, 3, 4, 5].map(() => invoke("vm-snap-node", v.Version)));
  const restored = more.filter((r) => /Restore Duration/.test(r.log));
  assert.ok(restored.length >= 2, `cold starts beyond the warm environments restore (${restored.length})`);
  for (const r of restored) t.diagnostic(`restored with the page log prefetched (${pages} pages): first response ${r.ms.toFixed(0)} ms; ${/Restore Duration: [\d.]+ ms/.exec(r.log)?.[0]}`);
  assert.equal(new Set(more.map((r) => r.body.uuid)).size, 5);
});

test("python3.11: a VM snapshot works for Python too", async () => {
  await k.deploy("vm-snap-py", "python3.11", "app.handler", { "app.py": `import os, random, time\nINIT_AT = time.time()\ndef handler(event, context):\n    return {"initAt": INIT_AT, "random": random.random(), "urandom": os.urandom(8).hex()}\n` }, SNAP);
  const v = await publish("vm-snap-py");
  assert.deepEqual(v.SnapStart, { ApplyOn: "PublishedVersions", OptimizationStatus: "On" }, v.StateReason);
  const runs = await Promise.all([1, 2].map(() => invoke("vm-snap-py", v.Version)));
  for (const r of runs) assert.match(r.log, /Restore Duration/, JSON.stringify(r.body));
  assert.equal(runs[0]!.body.initAt, runs[1]!.body.initAt);
  assert.notEqual(runs[0]!.body.random, runs[1]!.body.random);
  assert.notEqual(runs[0]!.body.urandom, runs[1]!.body.urandom);
});
