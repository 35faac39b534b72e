/**
 * cgroup.ts against fake cgroup trees in a temp dir (the v2 code path cannot run for real on these
 * v1 machines); the real v1 hierarchy is exercised by driver.test.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SandboxCgroup, detectCgroups, parsePids, readCounter } from "./cgroup.js";

async function fakeRoot(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "kiln-fake-cgroup-"));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, ".."), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

test("cgroup: counters and pid lists parse", () => {
  assert.equal(readCounter("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n", "oom_kill"), 2);
  assert.equal(readCounter("low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\noom_group_kill 1\n", "oom_kill"), 1);
  assert.equal(readCounter("oom_kill_disable 0\n", "oom_kill"), 0);
  assert.equal(readCounter(undefined, "oom_kill"), 0);
  assert.deepEqual(parsePids("12\n345\n"), [12, 345]);
  assert.deepEqual(parsePids(""), []);
});

test("cgroup: detection finds v2 (enabling memory and pids for kiln/), v1 (with or without pids), or nothing", async () => {
  const v2 = await fakeRoot({ "cgroup.controllers": "cpuset cpu io memory pids\n", "cgroup.subtree_control": "" });
  assert.deepEqual(detectCgroups(v2), { version: 2, parent: join(v2, "kiln"), pids: true });
  assert.equal(await readFile(join(v2, "kiln", "cgroup.subtree_control"), "utf8"), "+memory +pids");
  const v1 = await fakeRoot({ "memory/memory.limit_in_bytes": "9223372036854771712\n", "pids/cgroup.procs": "", "unified/cgroup.controllers": "" });
  assert.deepEqual(detectCgroups(v1), { version: 1, parent: join(v1, "memory", "kiln"), pidsParent: join(v1, "pids", "kiln"), pids: true });
  const v1NoPids = await fakeRoot({ "memory/memory.limit_in_bytes": "9223372036854771712\n" });
  assert.deepEqual(detectCgroups(v1NoPids), { version: 1, parent: join(v1NoPids, "memory", "kiln"), pids: false });
  const v2NoMemory = await fakeRoot({ "cgroup.controllers": "cpu pids\n" });
  assert.equal(detectCgroups(v2NoMemory), undefined);
  assert.equal(detectCgroups(join(v1, "missing")), undefined);
  for (const r of [v2, v1, v1NoPids, v2NoMemory]) await rm(r, { recursive: true });
});

test("cgroup: v2 sets memory.max, no swap, whole-group OOM kills, pids.max; reads peak, falling back to current", async () => {
  const root = await fakeRoot({ "kiln/.keep": "" });
  const cg = await SandboxCgroup.create({ version: 2, parent: join(root, "kiln"), pids: true }, "sb", { memoryMB: 128, maxProcesses: 1024 });
  assert.equal(await readFile(join(cg.path, "memory.max"), "utf8"), String(128 * 1024 * 1024));
  assert.equal(await readFile(join(cg.path, "memory.swap.max"), "utf8"), "0");
  assert.equal(await readFile(join(cg.path, "memory.oom.group"), "utf8"), "1");
  assert.equal(await readFile(join(cg.path, "pids.max"), "utf8"), "1024");
  assert.deepEqual(cg.procsFiles, [join(root, "kiln", "sb", "cgroup.procs")]);
  await writeFile(join(cg.path, "memory.current"), "1048576\n");
  assert.equal(await cg.peakBytes(), 1048576);
  await writeFile(join(cg.path, "memory.peak"), "5242880\n");
  assert.equal(await cg.peakBytes(), 5242880);
  await writeFile(join(cg.path, "memory.events"), "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
  assert.equal(await cg.oomKills(), 1);
  // The same name again: a cgroup with processes in it belongs to someone else.
  await writeFile(join(cg.path, "cgroup.procs"), "4242\n");
  await assert.rejects(SandboxCgroup.create({ version: 2, parent: join(root, "kiln"), pids: true }, "sb", { memoryMB: 128, maxProcesses: 1024 }), /has processes/);
  await rm(root, { recursive: true });
});

test("cgroup: v1 sets the memory and memory+swap limits and pids.max in the pids hierarchy; reads max usage and oom_control", async () => {
  const root = await fakeRoot({ "memory/kiln/.keep": "", "pids/kiln/.keep": "" });
  const host = { version: 1 as const, parent: join(root, "memory", "kiln"), pidsParent: join(root, "pids", "kiln"), pids: true };
  const cg = await SandboxCgroup.create(host, "sb", { memoryMB: 64, maxProcesses: 100 });
  assert.deepEqual(cg.procsFiles, [join(root, "memory", "kiln", "sb", "cgroup.procs"), join(root, "pids", "kiln", "sb", "cgroup.procs")]);
  assert.equal(await readFile(join(root, "pids", "kiln", "sb", "pids.max"), "utf8"), "100");
  assert.equal(await readFile(join(cg.path, "memory.limit_in_bytes"), "utf8"), String(64 * 1024 * 1024));
  assert.equal(await readFile(join(cg.path, "memory.memsw.limit_in_bytes"), "utf8"), String(64 * 1024 * 1024));
  await writeFile(join(cg.path, "memory.max_usage_in_bytes"), "7340032\n");
  await writeFile(join(cg.path, "memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
  assert.equal(await cg.peakBytes(), 7340032);
  assert.equal(await cg.oomKills(), 0);
  assert.deepEqual(await cg.pids(), []);
  await rm(root, { recursive: true });
});
