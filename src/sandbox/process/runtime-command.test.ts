/** The pure pieces around the runtime process: its command, its environment without a jail, its exit status. */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { SandboxSpec } from "../contract.js";
import { plainEnv } from "./plain.js";
import { parseVmHwmBytes } from "./procfs.js";
import { SANDBOX_PATHS, nodeHeapMB, runtimeCommand } from "./runtime-command.js";
import { decodeJailStatus } from "./spawn.js";

test("runtime command: each runtime's bootstrap, as the sandbox sees it", () => {
  assert.deepEqual(runtimeCommand("nodejs20.x", 128, SANDBOX_PATHS), ["/usr/bin/node", "--max-old-space-size=108", "/var/runtime/nodejs/bootstrap.mjs"]);
  assert.deepEqual(runtimeCommand("python3.11", 128, SANDBOX_PATHS), ["/usr/bin/python3.11", "-u", "/var/runtime/python/bootstrap.py"]);
  assert.deepEqual(runtimeCommand("provided.al2023", 128, SANDBOX_PATHS), ["/var/task/bootstrap"]);
  assert.deepEqual(runtimeCommand("provided.al2", 128, SANDBOX_PATHS), ["/var/task/bootstrap"]);
});

test("runtime command: host paths for isolation none; language runtimes need runtimesDir", () => {
  const host = { runtimeDir: "/srv/kiln/runtimes", taskDir: "/data/code/x" };
  assert.deepEqual(runtimeCommand("python3.11", 512, host), ["/usr/bin/python3.11", "-u", "/srv/kiln/runtimes/python/bootstrap.py"]);
  assert.deepEqual(runtimeCommand("provided.al2023", 512, host), ["/data/code/x/bootstrap"]);
  assert.equal(runtimeCommand("nodejs20.x", 128, { runtimeDir: undefined, taskDir: "/var/task" }), undefined);
});

test("runtime command: snapshot starts keep the heap flag V8 checks the blob against; nodejs only", () => {
  assert.deepEqual(runtimeCommand("nodejs20.x", 128, SANDBOX_PATHS, { kind: "snapshot-restore", blob: "/var/snapshot/snapshot.blob" }), [
    "/usr/bin/node",
    "--max-old-space-size=108",
    "--snapshot-blob",
    "/var/snapshot/snapshot.blob",
  ]);
  assert.deepEqual(runtimeCommand("nodejs20.x", 1024, SANDBOX_PATHS, { kind: "snapshot-build", entry: "/var/snapshot/entry.cjs", blobOut: "/tmp/snapshot.blob" }), [
    "/usr/bin/node",
    "--max-old-space-size=870",
    "--snapshot-blob",
    "/tmp/snapshot.blob",
    "--build-snapshot",
    "/var/snapshot/entry.cjs",
  ]);
  assert.equal(runtimeCommand("python3.11", 128, SANDBOX_PATHS, { kind: "snapshot-restore", blob: "/b" }), undefined);
});

test("runtime command: Node's heap is capped at 85% of the memory size", () => {
  assert.equal(nodeHeapMB(128), 108);
  assert.equal(nodeHeapMB(1024), 870);
  assert.equal(nodeHeapMB(10), 16);
});

test("plain env: spec.env with the bridge address and host paths for the sandbox paths", () => {
  const spec = { codeDir: "/data/code/x", tmpDir: "/data/tmp/sb", env: { AWS_LAMBDA_RUNTIME_API: "127.0.0.1:9001", LAMBDA_TASK_ROOT: "/var/task", LAMBDA_RUNTIME_DIR: "/var/runtime", A: "1" } } as unknown as SandboxSpec;
  assert.deepEqual(plainEnv(spec, "127.0.0.1:40001", "/srv/rt"), {
    AWS_LAMBDA_RUNTIME_API: "127.0.0.1:40001",
    LAMBDA_TASK_ROOT: "/data/code/x",
    LAMBDA_RUNTIME_DIR: "/srv/rt",
    TMPDIR: "/data/tmp/sb",
    A: "1",
  });
  const custom = { ...spec, env: { TMPDIR: "/mine", LAMBDA_TASK_ROOT: "/elsewhere" } } as SandboxSpec;
  assert.deepEqual(plainEnv(custom, "127.0.0.1:1", undefined), { AWS_LAMBDA_RUNTIME_API: "127.0.0.1:1", TMPDIR: "/mine", LAMBDA_TASK_ROOT: "/elsewhere" });
});

test("exit status: bwrap's 128+N becomes signal N", () => {
  assert.deepEqual(decodeJailStatus({ code: 137, signal: null }), { code: null, signal: "SIGKILL" });
  assert.deepEqual(decodeJailStatus({ code: 143, signal: null }), { code: null, signal: "SIGTERM" });
  assert.deepEqual(decodeJailStatus({ code: 3, signal: null }), { code: 3, signal: null });
  assert.deepEqual(decodeJailStatus({ code: 128, signal: null }), { code: 128, signal: null });
  assert.deepEqual(decodeJailStatus({ code: 255, signal: null }), { code: 255, signal: null });
  assert.deepEqual(decodeJailStatus({ code: null, signal: "SIGKILL" }), { code: null, signal: "SIGKILL" });
});

test("procfs: VmHWM in kB -> bytes", () => {
  assert.equal(parseVmHwmBytes("Name:\tnode\nVmPeak:\t  200 kB\nVmHWM:\t   40960 kB\nVmRSS:\t 1 kB\n"), 40960 * 1024);
  assert.equal(parseVmHwmBytes("Name:\tkthreadd\n"), 0);
});
