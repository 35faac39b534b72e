/**
 * Which command starts each runtime. Pure: the same table serves the jail (paths as the sandbox
 * sees them: /var/runtime, /var/task) and isolation "none" (the host paths those are mounted from).
 */
import { join } from "node:path";
import type { RuntimeName } from "../contract.js";
import { NODE_HEAP_SHARE } from "./options.js";

export const NODE_BIN = "/usr/bin/node";
export const PYTHON_BIN = "/usr/bin/python3.11";

/** Where the runtime and task directories are, as the runtime process sees them. */
export interface RuntimePaths {
  runtimeDir: string | undefined;
  taskDir: string;
}

export const SANDBOX_PATHS: RuntimePaths = { runtimeDir: "/var/runtime", taskDir: "/var/task" };

/** Where a jail shows the snapshot files of SandboxSpec.startup. */
export const SNAPSHOT_DIR_IN_SANDBOX = "/var/snapshot";
export const SNAPSHOT_BLOB_IN_SANDBOX = "/var/snapshot/snapshot.blob";
export const SNAPSHOT_ENTRY_IN_SANDBOX = "/var/snapshot/entry.cjs";

/** Kiln's exec launcher (PooledSandboxSpec.launcher): isolated Python, no site, the launcher script. */
export function launcherCommand(runtimeDir: string | undefined): string[] | undefined {
  return runtimeDir === undefined ? undefined : [PYTHON_BIN, "-I", "-S", join(runtimeDir, "launcher", "launch.py")];
}

/** SandboxSpec.startup with the paths as the runtime process sees them. */
export type StartupPaths = { kind: "snapshot-restore"; blob: string } | { kind: "snapshot-build"; entry: string; blobOut: string };

/** Heap cap for Node, in MB: 85% of the function's memory, never below 16 MB. */
export const nodeHeapMB = (memoryMB: number): number => Math.max(16, Math.floor(memoryMB * NODE_HEAP_SHARE));

/**
 * The argv that starts `runtime`. Returns undefined when the runtime needs the runtimes directory
 * and none is configured.
 *
 *   nodejs20.x      -> /usr/bin/node --max-old-space-size=108 /var/runtime/nodejs/bootstrap.mjs   (128 MB)
 *   python3.11      -> /usr/bin/python3.11 -u /var/runtime/python/bootstrap.py
 *   provided.al2023 -> /var/task/bootstrap
 *   nodejs20.x, snapshot-restore -> /usr/bin/node --max-old-space-size=108 --snapshot-blob /var/snapshot/snapshot.blob
 *   nodejs20.x, snapshot-build   -> /usr/bin/node --max-old-space-size=108 --snapshot-blob /tmp/snapshot.blob --build-snapshot /var/snapshot/entry.cjs
 *
 * A startup other than the bootstrap exists for nodejs runtimes only (undefined otherwise).
 */
export function runtimeCommand(runtime: RuntimeName, memoryMB: number, paths: RuntimePaths, startup?: StartupPaths): string[] | undefined {
  if (startup !== undefined) {
    if (!runtime.startsWith("nodejs")) return undefined;
    const heap = `--max-old-space-size=${nodeHeapMB(memoryMB)}`;
    return startup.kind === "snapshot-restore" ? [NODE_BIN, heap, "--snapshot-blob", startup.blob] : [NODE_BIN, heap, "--snapshot-blob", startup.blobOut, "--build-snapshot", startup.entry];
  }
  switch (runtime) {
    case "nodejs20.x":
      return paths.runtimeDir === undefined ? undefined : [NODE_BIN, `--max-old-space-size=${nodeHeapMB(memoryMB)}`, join(paths.runtimeDir, "nodejs", "bootstrap.mjs")];
    case "python3.11":
      return paths.runtimeDir === undefined ? undefined : [PYTHON_BIN, "-u", join(paths.runtimeDir, "python", "bootstrap.py")];
    case "provided.al2023":
    case "provided.al2":
      return [join(paths.taskDir, "bootstrap")];
  }
}
