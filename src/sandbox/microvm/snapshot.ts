/**
 * VM snapshots (SnapStart for micro-VMs) and their restores.
 *
 *   build:   boot with RAM = memory-backend-file share=on (the guest writes straight into
 *            `memory`), let init run, then QMP: stop; migrate-set-capabilities x-ignore-shared;
 *            migrate "exec:cat > state" (device state only, ~50-100 KB: RAM is the file already).
 *            The /tmp disk is copied as it was (the guest's ext4 was mounted and cached).
 *   restore: same devices, RAM = the same file with share=off (MAP_PRIVATE: pages load on first
 *            touch, writes are copy-on-write, clones share the page cache), -incoming defer;
 *            QMP: x-ignore-shared; migrate-incoming "exec:cat state"; cont. Then the agent gets
 *            `restored` with 64 fresh bytes from the host: it reseeds the kernel RNG
 *            (RNDADDENTROPY + RNDRESEEDCRNG) and reconnects its Runtime API forwards, replaying a
 *            held GET /invocation/next over the clone's own socket.
 *   page log: after a clone's first invocation on a cold page cache, the pages of `memory` that
 *            are resident (mincore) are the working set; prefetching them (pread, in file order)
 *            before later restores turns their first touches into page-cache hits.
 *
 * Known caveats: uniqueness is restored for the kernel RNG (os.urandom, getrandom, /dev/urandom,
 * and everything seeded from them after the restore); user-space generators seeded before the
 * snapshot (V8's Math.random, OpenSSL's DRBG, Python's `random`) stay shared until the runtime
 * reseeds them (not yet done). The page log is a set ordered by file offset, not by access time.
 */
import { randomBytes } from "node:crypto";
import { spawn } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { SandboxEvents, SandboxSpec } from "../contract.js";
import { copySparse, type MicroVmDriver } from "./driver.js";
import type { AgentMessage } from "./control.js";
import { Qmp } from "./qmp.js";
import type { MicroVmSandbox } from "./sandbox.js";

export const PAGECACHE_HELPER = fileURLToPath(new URL("../../../../src/sandbox/microvm/pagecache.py", import.meta.url));

export interface VmSnapshot {
  dir: string;
  memoryFile: string;
  stateFile: string;
  tmpDisk: string;
  ramMB: number;
  /** Bytes of the device state (the memory file is ramMB). */
  stateBytes: number;
  buildMs: number;
}

/**
 * Boots `spec` with file-backed RAM, waits for `initialized()` (the caller knows when init is
 * done: e.g. the runtime's first GET /invocation/next), pauses and saves the VM into `dir`.
 */
export async function buildVmSnapshot(driver: MicroVmDriver, spec: SandboxSpec, events: SandboxEvents, dir: string, initialized: () => Promise<void>): Promise<VmSnapshot> {
  const t0 = performance.now();
  await mkdir(dir, { recursive: true });
  const runDir = join(driver.workDir, "vm", spec.id);
  await rm(runDir, { recursive: true, force: true });
  await mkdir(runDir, { recursive: true, mode: 0o700 });
  const memoryFile = join(dir, "memory");
  const stateFile = join(dir, "state");
  const plan = await driver.plan(spec, runDir, { memoryFile: { path: memoryFile, share: true } });
  const sandbox = await driver.attach(spec, plan, events, runDir);
  try {
    sandbox.send(driver.runMessage(spec));
    await initialized();
    const qmp = await Qmp.open(plan.qmpSocket);
    try {
      await qmp.execute("stop");
      await qmp.execute("migrate-set-capabilities", { capabilities: [{ capability: "x-ignore-shared", state: true }] });
      await qmp.execute("migrate", { uri: `exec:cat > '${stateFile}'` });
      await qmp.waitMigration();
    } finally {
      qmp.close();
    }
    await copySparse(join(runDir, "tmp.ext4"), join(dir, "tmp.ext4"));
  } finally {
    await sandbox.destroy();
  }
  const snap: VmSnapshot = { dir, memoryFile, stateFile, tmpDisk: join(dir, "tmp.ext4"), ramMB: plan.ramMB, stateBytes: (await readFile(stateFile)).length, buildMs: performance.now() - t0 };
  await writeFile(join(dir, "snapshot.json"), JSON.stringify(snap, null, 2) + "\n");
  return snap;
}

export interface RestoreTimings {
  /** QEMU spawned -> device state loaded -> guest running -> agent reseeded and reconnected. */
  spawnMs: number;
  loadMs: number;
  resumedMs: number;
  restoredMs: number;
}

/** A clone of `snap` for `spec` (its own Runtime API socket, /tmp copy, environment id). */
export interface RestoreOptions {
  /** Read the snapshot's page-access log into the page cache while QEMU starts; resume after it. */
  prefetch?: boolean;
  /** Evict the memory file first, and record the page-access log once the clone's first invocation is done. */
  record?: boolean;
}

export async function restoreVmSnapshot(
  driver: MicroVmDriver,
  snap: VmSnapshot,
  spec: SandboxSpec,
  events: SandboxEvents,
  o: RestoreOptions = {},
): Promise<{ sandbox: MicroVmSandbox; timings: RestoreTimings; pageLogRecorded?: Promise<number> }> {
  if (o.record) await dropPageCache(snap);
  const t0 = performance.now();
  const prefetched = o.prefetch ? prefetchPageLog(snap).catch(() => undefined) : undefined;
  const runDir = join(driver.workDir, "vm", spec.id);
  await rm(runDir, { recursive: true, force: true });
  await mkdir(runDir, { recursive: true, mode: 0o700 });
  const plan = await driver.plan(spec, runDir, { memoryFile: { path: snap.memoryFile, share: false }, incoming: true, ramMB: snap.ramMB }, snap.tmpDisk);
  const t1 = performance.now();
  const sandbox = await driver.attach(spec, plan, events, runDir);
  try {
    const qmp = await Qmp.open(plan.qmpSocket);
    let t2: number;
    let t3: number;
    try {
      await qmp.execute("migrate-set-capabilities", { capabilities: [{ capability: "x-ignore-shared", state: true }] });
      await qmp.execute("migrate-incoming", { uri: `exec:cat '${snap.stateFile}'` });
      await qmp.waitMigration();
      t2 = performance.now();
      await prefetched;
      await qmp.execute("cont");
      t3 = performance.now();
    } finally {
      qmp.close();
    }
    await sandbox.vm.channel.request<Extract<AgentMessage, { t: "restored" }>>((id) => ({ t: "restored", seed: randomBytes(64).toString("base64"), id }));
    const t4 = performance.now();
    const timings = { spawnMs: t1 - t0, loadMs: t2 - t1, resumedMs: t3 - t1, restoredMs: t4 - t1 };
    if (!o.record) return { sandbox, timings };
    const pageLogRecorded = sandbox.vm.channel.next("next", 3_600_000).then(() => recordPageLog(snap));
    pageLogRecorded.catch(() => undefined);
    return { sandbox, timings, pageLogRecorded };
  } catch (e) {
    await sandbox.destroy();
    throw e;
  }
}

function helper(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("/usr/bin/python3", ["-I", "-S", PAGECACHE_HELPER, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`pagecache.py ${args[0]}: ${err.trim()}`))));
  });
}

/** Evicts the snapshot's memory file from the page cache (a cold restore). */
export const dropPageCache = (snap: VmSnapshot): Promise<string> => helper(["drop", snap.memoryFile]);

/** Records which pages of the memory file are resident now (the page-access log); returns their count. */
export async function recordPageLog(snap: VmSnapshot): Promise<number> {
  const pages = await helper(["resident", snap.memoryFile]);
  await writeFile(join(snap.dir, "pages.log"), pages);
  return pages.split("\n").filter(Boolean).length;
}

/** Reads the logged pages into the page cache, in order (before resuming later clones). */
export const prefetchPageLog = (snap: VmSnapshot): Promise<string> => helper(["prefetch", snap.memoryFile, join(snap.dir, "pages.log")]);
