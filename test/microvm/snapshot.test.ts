/**
 * VM snapshots: one python3.11 function initialized in a micro-VM and snapshotted; clones
 * restored concurrently answer their first invocation through their own Runtime API with distinct
 * kernel randomness; the page-access log of a clone's first invocation, prefetched on a cold page
 * cache, is measured against a cold restore without it. Figures go to the test's diagnostics.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { createLogger } from "../../src/base/index.js";
import { Workspace, holdingApi, lambdaEnv, pythonBootstrap } from "../../src/sandbox/testkit.js";
import { buildVmSnapshot, createMicroVmDriver, dropPageCache, prefetchPageLog, recordPageLog, restoreVmSnapshot, type VmSnapshot } from "../../src/sandbox/microvm/index.js";
import type { SandboxSpec } from "../../src/sandbox/contract.js";

const driver = createMicroVmDriver({ logger: createLogger("microvm-test", "error"), progress: (l) => process.stderr.write(l + "\n") });
let ws: Workspace;
let snap: VmSnapshot;
let code: string;

// Init imports and seeds before the snapshot; each invocation reports kernel and Python randomness.
const RUNTIME = pythonBootstrap(`import random, hashlib
seed_at_init = random.random()
print("initialized", flush=True)
while True:
    ev = urllib.request.urlopen(api + "/invocation/next").read()
    out = json.dumps({"urandom": os.urandom(16).hex(), "random": random.random(), "boot_id": open("/proc/sys/kernel/random/uuid").read().strip()})
    urllib.request.urlopen(urllib.request.Request(api + "/invocation/r/response", data=out.encode(), method="POST")).read()`);

let n = 0;
async function specFor(): Promise<{ spec: SandboxSpec; api: Awaited<ReturnType<typeof holdingApi>> }> {
  const id = `snap-${process.pid}-${++n}`;
  const dir = await ws.dir(`${id}-rapi`);
  const api = await holdingApi(join(dir, "runtime.sock"));
  const spec: SandboxSpec = { id, runtime: "provided.al2023", codeDir: code, layerDirs: [], tmpDir: await ws.dir(`${id}-tmp`), env: lambdaEnv(), memoryMB: 128, runtimeApiSocket: join(dir, "runtime.sock") };
  return { spec, api };
}

const noEvents = { onOutput: () => undefined, onExit: () => undefined };

before(async () => {
  ws = await Workspace.create();
  code = await ws.dir("code");
  await ws.file("code/bootstrap", RUNTIME, 0o755);
});
after(() => ws.remove());

test("cold boot vs snapshot, restore of concurrent clones with distinct randomness", async (t) => {
  const { spec, api } = await specFor();
  const t0 = performance.now();
  snap = await buildVmSnapshot(driver, spec, noEvents, join(ws.root, "snapshot"), async () => {
    await api.waitNext();
  });
  const bootToInitMs = snap.buildMs;
  await api.close();
  t.diagnostic(`boot to initialized (first GET /next) + snapshot: ${(performance.now() - t0).toFixed(0)} ms; device state ${snap.stateBytes} bytes, RAM file ${snap.ramMB} MB`);

  const clones = await Promise.all([1, 2, 3].map(async () => {
    const { spec: s, api: a } = await specFor();
    const t1 = performance.now();
    const { sandbox, timings } = await restoreVmSnapshot(driver, snap, s, noEvents);
    await a.waitNext();
    a.event("{}");
    await a.waitResponse();
    const firstResponseMs = performance.now() - t1;
    return { sandbox, a, timings, firstResponseMs, result: JSON.parse(a.responses[0]!) as { urandom: string; random: number; boot_id: string } };
  }));
  try {
    const urandom = new Set(clones.map((c) => c.result.urandom));
    const uuids = new Set(clones.map((c) => c.result.boot_id));
    assert.equal(urandom.size, 3, "each clone's kernel RNG was reseeded");
    assert.equal(uuids.size, 3);
    for (const c of clones) t.diagnostic(`clone restore to first response ${c.firstResponseMs.toFixed(0)} ms (${JSON.stringify(Object.fromEntries(Object.entries(c.timings).map(([k, v]) => [k, Math.round(v)])))}); python random.random() ${c.result.random}`);
    t.diagnostic(`boot-to-init ${bootToInitMs.toFixed(0)} ms vs median restore-to-first-response ${clones.map((c) => c.firstResponseMs).sort((a, b) => a - b)[1]!.toFixed(0)} ms`);
  } finally {
    for (const c of clones) {
      await c.sandbox.destroy();
      await c.a.close();
    }
  }
});

test("page-access log: prefetching the first invocation's working set before a cold restore", async (t) => {
  assert.ok(snap, "needs the snapshot of the previous test");
  const restoreOnce = async () => {
    const { spec, api } = await specFor();
    const t1 = performance.now();
    const { sandbox } = await restoreVmSnapshot(driver, snap, spec, noEvents);
    await api.waitNext();
    api.event("{}");
    await api.waitResponse();
    const ms = performance.now() - t1;
    return { ms, done: async () => (await sandbox.destroy(), await api.close()) };
  };
  // Record: a cold cache, one clone's first invocation, then what of the file is resident.
  await dropPageCache(snap);
  const first = await restoreOnce();
  const pages = await recordPageLog(snap);
  await first.done();
  const cold: number[] = [];
  const warmed: number[] = [];
  for (let i = 0; i < 2; i++) {
    await dropPageCache(snap);
    const c = await restoreOnce();
    cold.push(c.ms);
    await c.done();
    await dropPageCache(snap);
    const p0 = performance.now();
    await prefetchPageLog(snap);
    const prefetchMs = performance.now() - p0;
    const w = await restoreOnce();
    warmed.push(w.ms);
    await w.done();
    t.diagnostic(`round ${i + 1}: cold ${c.ms.toFixed(0)} ms, prefetched ${w.ms.toFixed(0)} ms (prefetch itself ${prefetchMs.toFixed(0)} ms)`);
  }
  t.diagnostic(`page log: ${pages} pages (${((pages * 4096) / 1048576).toFixed(1)} MB of ${snap.ramMB} MB)`);
  assert.ok(pages > 0 && pages < (snap.ramMB * 256), `a working set, not the whole file (${pages} pages)`);
});
