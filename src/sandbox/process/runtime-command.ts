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

/** Heap cap for Node, in MB: 85% of the function's memory, never below 16 MB. */
export const nodeHeapMB = (memoryMB: number): number => Math.max(16, Math.floor(memoryMB * NODE_HEAP_SHARE));

/**
 * The argv that starts `runtime`. Returns undefined when the runtime needs the runtimes directory
 * and none is configured.
 *
 *   nodejs20.x      -> /usr/bin/node --max-old-space-size=108 /var/runtime/nodejs/bootstrap.mjs   (128 MB)
 *   python3.11      -> /usr/bin/python3.11 -u /var/runtime/python/bootstrap.py
 *   provided.al2023 -> /var/task/bootstrap
 */
export function runtimeCommand(runtime: RuntimeName, memoryMB: number, paths: RuntimePaths): string[] | undefined {
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
