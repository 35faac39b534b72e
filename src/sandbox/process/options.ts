/**
 * Configuration of the process driver: one path, DEFAULT_* constants -> `resolveOptions()`.
 * The defaults name the Debian 12 binaries this project is tested with.
 */
import type { Logger } from "../../base/index.js";
import { createLogger } from "../../base/index.js";

/**
 * The host uid/gid sandboxes run as. Lambda runs functions as `sbx_user1051`, uid 993; the uid must
 * have no account (and own no files) on the host. All sandboxes share it: they cannot see each other
 * (separate pid, mount and net namespaces), so sharing the uid grants nothing.
 */
export const DEFAULT_SANDBOX_UID = 993;
export const DEFAULT_SANDBOX_GID = 993;
export const SANDBOX_USER_NAME = "sbx_user1051";
export const SANDBOX_HOSTNAME = "sandbox";
/** Base of the cgroup filesystem; v1 controllers live below it (`memory/`), or it is a v2 hierarchy. */
export const DEFAULT_CGROUP_ROOT = "/sys/fs/cgroup";
/** Directory (inside the v1 memory hierarchy or the v2 root) that holds one cgroup per sandbox. */
export const CGROUP_PARENT_NAME = "kiln";
export const DEFAULT_BWRAP_PATH = "/usr/bin/bwrap";
export const DEFAULT_SETPRIV_PATH = "/usr/bin/setpriv";
/** Runs the first launch step on the host (see jail.ts LAUNCH_SCRIPT). */
export const DEFAULT_LAUNCH_SHELL = "/bin/bash";
/** Runs inside the sandbox, so it must live under /usr (the only host tree the sandbox sees). */
export const DEFAULT_SOCAT_PATH = "/usr/bin/socat";
/** Host /etc entries every runtime may need; bound read-only when present (paths relative to /etc). */
export const DEFAULT_ETC_ENTRIES = ["ld.so.cache", "localtime", "ssl/certs", "ssl/openssl.cnf", "alternatives", "protocols", "services", "mime.types"] as const;
/** Top-level host paths that Debian 12's merged /usr turns into symlinks (bound when real directories). */
export const ROOT_USR_LINKS = ["/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"] as const;
/**
 * Processes + threads per sandbox, through the pids cgroup (Lambda quota "Execution processes/threads":
 * 1,024). Without it one fork bomb would exhaust the host's pids (pid_max is 32,768 here).
 */
export const DEFAULT_MAX_PROCESSES = 1024;
/** How long a SIGKILLed sandbox may take to disappear before restart/destroy fail. */
export const KILL_TIMEOUT_MS = 5_000;
/**
 * V8 heap cap as a share of memoryMB: Node cannot see the cgroup limit, so without this it would
 * grow its heap past the limit and be OOM-killed instead of collecting garbage (Lambda does the same).
 */
export const NODE_HEAP_SHARE = 0.85;

export interface ProcessDriverOptions {
  /** "process": bubblewrap jail + cgroup memory limit. "none": plain child process, no isolation at all. */
  isolation: "process" | "none";
  /** Host path of Kiln's `src/runtimes` (mounted read-only at /var/runtime). Needed for nodejs/python runtimes. */
  runtimesDir?: string;
  /** Base of the cgroup filesystem (default /sys/fs/cgroup); `false` runs without memory limits. */
  cgroupRoot?: string | false;
  /** Host uid/gid of sandbox processes (default 993/993). Only switched to when Kiln runs as root. */
  uid?: number;
  gid?: number;
  /** Processes + threads per sandbox when the pids cgroup controller exists (default 1,024). */
  maxProcesses?: number;
  logger?: Logger;
  bwrapPath?: string;
  setprivPath?: string;
  /** Path of socat inside the sandbox (which sees the host's /usr). */
  socatPath?: string;
}

export interface ResolvedOptions {
  isolation: "process" | "none";
  runtimesDir: string | undefined;
  cgroupRoot: string | false;
  uid: number;
  gid: number;
  maxProcesses: number;
  logger: Logger;
  bwrapPath: string;
  setprivPath: string;
  shPath: string;
  socatPath: string;
}

export function resolveOptions(o: ProcessDriverOptions): ResolvedOptions {
  if (o.isolation !== "process" && o.isolation !== "none") throw new TypeError(`isolation must be "process" or "none", got ${String(o.isolation)}`);
  const uid = o.uid ?? DEFAULT_SANDBOX_UID;
  const gid = o.gid ?? DEFAULT_SANDBOX_GID;
  for (const [k, v] of [["uid", uid], ["gid", gid]] as const) {
    if (!Number.isInteger(v) || v <= 0 || v > 0xfffffffe) throw new TypeError(`${k} must be a positive integer (never 0: sandboxes do not run as root), got ${v}`);
  }
  if (o.maxProcesses !== undefined && (!Number.isInteger(o.maxProcesses) || o.maxProcesses < 8)) throw new TypeError(`maxProcesses must be an integer >= 8, got ${o.maxProcesses}`);
  const socatPath = o.socatPath ?? DEFAULT_SOCAT_PATH;
  if (!socatPath.startsWith("/usr/")) throw new TypeError(`socatPath must be under /usr (the sandbox sees only the host's /usr), got ${socatPath}`);
  return {
    isolation: o.isolation,
    runtimesDir: o.runtimesDir,
    cgroupRoot: o.cgroupRoot ?? DEFAULT_CGROUP_ROOT,
    uid,
    gid,
    maxProcesses: o.maxProcesses ?? DEFAULT_MAX_PROCESSES,
    logger: o.logger ?? createLogger("sandbox"),
    bwrapPath: o.bwrapPath ?? DEFAULT_BWRAP_PATH,
    setprivPath: o.setprivPath ?? DEFAULT_SETPRIV_PATH,
    shPath: DEFAULT_LAUNCH_SHELL,
    socatPath,
  };
}
