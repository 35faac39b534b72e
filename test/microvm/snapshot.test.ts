/**
 * VM snapshots: a python3.11 and a nodejs20.x function (Kiln's own runtimes) initialized in a
 * micro-VM and snapshotted; clones restored concurrently answer their first invocation through
 * their own Runtime API with distinct kernel and runtime randomness; the page-access log of a clone's first invocation, prefetched on a cold page
 * cache, is measured against a cold restore without it. Figures go to the test's diagnostics.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { createLogger } from "../../src/base/index.js";
import { RUNTIMES_DIR } from "../../src/standalone/index.js";
import { Workspace, holdingApi, lambdaEnv } from "../../src/sandbox/testkit.js";
import { buildVmSnapshot, createMicroVmDriver, dropPageCache, prefetchPageLog, recordPageLog, restoreVmSnapshot, type VmSnapshot } from "../../src/sandbox/microvm/index.js";
import type { SandboxSpec } from "../../src/sandbox/contract.js";

const driver = createMicroVmDriver({ runtimesDir: RUNTIMES_DIR, logger: createLogger("microvm-test", "error"), progress: (l) => process.stderr.write(l + "\n") });
let ws: Workspace;

// Kiln's own runtimes (runtimesDir = src/runtimes): init before the snapshot, and each invocation
// reports kernel randomness and the runtime's own generators.
const FUNCTIONS = {
  "python3.11": { handler: "app.handler", file: "app.py", code: `import os, random, uuid\nrandom.random()\ndef handler(event, context):\n    return {"urandom": os.urandom(16).hex(), "random": random.random(), "uuid": str(uuid.uuid4())}\n` },
  "nodejs20.x": { handler: "index.handler", file: "index.mjs", code: `import crypto from "node:crypto"; import fs from "node:fs";\nMath.random();\nexport const handler = async () => ({ urandom: fs.readFileSync("/proc/sys/kernel/random/uuid", "utf8").trim(), random: Math.random(), uuid: crypto.randomUUID() });\n` },
} as const;
type Rt = keyof typeof FUNCTIONS;

let n = 0;
async function specFor(runtime: Rt = "python3.11"): Promise<{ spec: SandboxSpec; api: Awaited<ReturnType<typeof holdingApi>> }> {
  const id = `snap-${process.pid}-${++n}`;
  const dir = await ws.dir(`${id}-rapi`);
  const api = await holdingApi(join(dir, "runtime.sock"));
  const f = FUNCTIONS[runtime];
  const spec: SandboxSpec = { id, runtime, codeDir: codeDirs[runtime], layerDirs: [], tmpDir: await ws.dir(`${id}-tmp`), env: lambdaEnv({ _HANDLER: f.handler }), memoryMB: 128, runtimeApiSocket: join(dir, "runtime.sock") };
  return { spec, api };
}

const noEvents = { onOutput: () => undefined, onExit: () => undefined };
const codeDirs = {} as Record<Rt, string>;
const snaps = {} as Record<Rt, VmSnapshot>;

before(async () => {
  ws = await Workspace.create();
  for (const [rt, f] of Object.entries(FUNCTIONS) as Array<[Rt, (typeof FUNCTIONS)[Rt]]>) {
    codeDirs[rt] = await ws.dir(`code-${rt}`);
    await ws.file(`code-${rt}/${f.file}`, f.code);
  }
});
after(() => ws.remove());

for (const runtime of Object.keys(FUNCTIONS) as Rt[]) {
  test(`${runtime}: snapshot after init; concurrent clones answer with distinct randomness`, async (t) => {
    const { spec, api } = await specFor(runtime);
    const snap = (snaps[runtime] = await buildVmSnapshot(driver, spec, noEvents, join(ws.root, `snapshot-${runtime}`), async () => {
      await api.waitNext();
    }));
    await api.close();
    t.diagnostic(`boot to initialized (first GET /next) + snapshot: ${snap.buildMs.toFixed(0)} ms; device state ${snap.stateBytes} bytes, RAM file ${snap.ramMB} MB`);
    const clones = await Promise.all([1, 2, 3].map(async () => {
      const { spec: s, api: a } = await specFor(runtime);
      const t1 = performance.now();
      const { sandbox, timings } = await restoreVmSnapshot(driver, snap, s, noEvents);
      await a.waitNext();
      a.event("{}");
      await a.waitResponse();
      return { sandbox, a, timings, firstResponseMs: performance.now() - t1, result: JSON.parse(a.responses[0]!) as { urandom: string; random: number; uuid: string } };
    }));
    try {
      for (const c of clones) t.diagnostic(`clone restore to first response ${c.firstResponseMs.toFixed(0)} ms (${JSON.stringify(Object.fromEntries(Object.entries(c.timings).map(([k, v]) => [k, Math.round(v)])))}); ${JSON.stringify(c.result)}`);
      for (const k of ["urandom", "random", "uuid"] as const) assert.equal(new Set(clones.map((c) => c.result[k])).size, 3, `${k} differs in every clone`);
      t.diagnostic(`boot-to-init+snapshot ${snap.buildMs.toFixed(0)} ms vs median restore-to-first-response ${clones.map((c) => c.firstResponseMs).sort((a, b) => a - b)[1]!.toFixed(0)} ms`);
    } finally {
      for (const c of clones) {
        await c.sandbox.destroy();
        await c.a.close();
      }
    }
  });
}

test("page-access log: prefetching the first invocation's working set before a cold restore", async (t) => {
  const snap = snaps["python3.11"];
  assert.ok(snap, "needs the python3.11 snapshot of the first test");
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
