/**
 * The cgroups of one sandbox, on cgroup v1 or v2: a memory limit (required) and a process/thread
 * limit (when the pids controller exists). Thin file I/O; parsing is pure and exported for tests.
 *
 *   v1 (/sys/fs/cgroup/memory mounted):  <root>/memory/kiln/<id>/memory.limit_in_bytes (+ memsw),
 *       peak memory.max_usage_in_bytes, OOM kills from memory.oom_control `oom_kill N`;
 *       <root>/pids/kiln/<id>/pids.max (a separate hierarchy, joined as well).
 *   v2 (<root>/cgroup.controllers lists memory):  <root>/kiln/<id>/memory.max, memory.swap.max 0,
 *       memory.oom.group 1, pids.max, peak memory.peak (or memory.current), OOM kills from
 *       memory.events.
 *
 * The sandbox joins its cgroups before anything runs (jail.ts LAUNCH_SCRIPT). They live as long
 * as one runtime process tree: restartRuntime() removes them and creates fresh ones, which is how
 * the peak and the OOM counter restart at zero on both versions (v2's memory.peak cannot be reset
 * for everyone).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CGROUP_PARENT_NAME } from "./options.js";

export interface CgroupHost {
  version: 1 | 2;
  /** The directory that holds one memory cgroup per sandbox (…/kiln). On v2 it has the pids controller too. */
  parent: string;
  /** v1 only: the pids hierarchy's …/kiln, when that controller is mounted. */
  pidsParent?: string;
  /** Whether sandboxes get a process/thread limit. */
  pids: boolean;
}

export interface CgroupLimits {
  memoryMB: number;
  /** Processes + threads (Lambda: 1,024 per execution environment). */
  maxProcesses: number;
}

const errno = (e: unknown): string | undefined => (e as NodeJS.ErrnoException).code;

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    if (errno(e) === "ENOENT") return undefined;
    throw e;
  }
}

/** Writes, ignoring files this kernel does not have (memsw without swap accounting, swap.max without swap). */
async function writeOptional(path: string, value: string): Promise<void> {
  try {
    await writeFile(path, value);
  } catch (e) {
    if (errno(e) !== "ENOENT") throw e;
  }
}

/** `key value` lines (memory.events, memory.oom_control) -> the value of `key`, 0 when absent. */
export function readCounter(text: string | undefined, key: string): number {
  for (const line of (text ?? "").split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k === key && v !== undefined) return Number(v) || 0;
  }
  return 0;
}

/** `cgroup.procs` -> pids. */
export const parsePids = (text: string | undefined): number[] =>
  (text ?? "")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map(Number);

function readTextSync(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    if (errno(e) === "ENOENT") return undefined;
    throw e;
  }
}

/**
 * Finds a usable memory controller under `root` and prepares the `kiln` parents (v2: enables the
 * memory and pids controllers for them). Undefined when there is none; throws when one exists but
 * cannot be used (not root, a v2 root with processes in it, ...). Synchronous: runs once, when a
 * driver is made.
 */
export function detectCgroups(root: string): CgroupHost | undefined {
  const controllers = readTextSync(join(root, "cgroup.controllers"))?.split(/\s+/);
  if (controllers?.includes("memory")) {
    const parent = join(root, CGROUP_PARENT_NAME);
    const enable = controllers.includes("pids") ? "+memory +pids" : "+memory";
    writeFileSync(join(root, "cgroup.subtree_control"), enable);
    mkdirSync(parent, { recursive: true });
    writeFileSync(join(parent, "cgroup.subtree_control"), enable);
    return { version: 2, parent, pids: controllers.includes("pids") };
  }
  const v1 = join(root, "memory");
  if (readTextSync(join(v1, "memory.limit_in_bytes")) === undefined) return undefined;
  const parent = join(v1, CGROUP_PARENT_NAME);
  mkdirSync(parent, { recursive: true });
  const pidsRoot = join(root, "pids");
  if (!existsSync(join(pidsRoot, "cgroup.procs"))) return { version: 1, parent, pids: false };
  const pidsParent = join(pidsRoot, CGROUP_PARENT_NAME);
  mkdirSync(pidsParent, { recursive: true });
  return { version: 1, parent, pidsParent, pids: true };
}

export class SandboxCgroup {
  /** The memory cgroup (v2: the only one). */
  readonly path: string;
  /** v1: the pids cgroup. */
  readonly pidsPath: string | undefined;
  /** Every cgroup.procs the sandbox must join. */
  readonly procsFiles: string[];

  private constructor(
    readonly host: CgroupHost,
    name: string,
  ) {
    this.path = join(host.parent, name);
    this.pidsPath = host.pidsParent === undefined ? undefined : join(host.pidsParent, name);
    this.procsFiles = [this.path, ...(this.pidsPath === undefined ? [] : [this.pidsPath])].map((d) => join(d, "cgroup.procs"));
  }

  /**
   * Creates the cgroups and sets the limits. An empty one left over by a crashed Kiln is replaced;
   * one that still has processes belongs to a live sandbox with the same id, and is an error.
   */
  static async create(host: CgroupHost, name: string, limits: CgroupLimits): Promise<SandboxCgroup> {
    const cg = new SandboxCgroup(host, name);
    for (const dir of cg.dirs()) {
      try {
        await mkdir(dir);
      } catch (e) {
        if (errno(e) !== "EEXIST") throw e;
        if (parsePids(await readText(join(dir, "cgroup.procs"))).length > 0) throw new Error(`${dir} already exists and has processes in it`);
        await rmdir(dir);
        await mkdir(dir);
      }
    }
    const bytes = String(limits.memoryMB * 1024 * 1024);
    if (host.version === 1) {
      await writeFile(join(cg.path, "memory.limit_in_bytes"), bytes);
      await writeOptional(join(cg.path, "memory.memsw.limit_in_bytes"), bytes);
      if (cg.pidsPath !== undefined) await writeFile(join(cg.pidsPath, "pids.max"), String(limits.maxProcesses));
    } else {
      await writeFile(join(cg.path, "memory.max"), bytes);
      await writeOptional(join(cg.path, "memory.swap.max"), "0");
      await writeOptional(join(cg.path, "memory.oom.group"), "1");
      if (host.pids) await writeFile(join(cg.path, "pids.max"), String(limits.maxProcesses));
    }
    return cg;
  }

  private dirs(): string[] {
    return this.pidsPath === undefined ? [this.path] : [this.path, this.pidsPath];
  }

  /**
   * Peak memory of the tree in bytes (v2 without memory.peak: current usage). Read on every
   * invoke for REPORT: a synchronous read of a kernel counter costs microseconds, while the
   * promise API's open/stat/read/close would make four thread-pool round trips.
   */
  async peakBytes(): Promise<number> {
    if (this.host.version === 1) return Number(readTextSync(join(this.path, "memory.max_usage_in_bytes"))) || 0;
    const peak = readTextSync(join(this.path, "memory.peak"));
    return Number(peak ?? readTextSync(join(this.path, "memory.current"))) || 0;
  }

  /** How many processes the kernel OOM-killed in this cgroup. */
  async oomKills(): Promise<number> {
    return this.host.version === 1
      ? readCounter(await readText(join(this.path, "memory.oom_control")), "oom_kill")
      : readCounter(await readText(join(this.path, "memory.events")), "oom_kill");
  }

  /** The sandbox's processes (members of the memory cgroup). */
  async pids(): Promise<number[]> {
    return parsePids(await readText(join(this.path, "cgroup.procs")));
  }

  /** SIGKILLs every process in the cgroup (v2: cgroup.kill; v1 or old v2: one by one). */
  async killAll(): Promise<void> {
    if (this.host.version === 2) {
      try {
        await writeFile(join(this.path, "cgroup.kill"), "1");
        return;
      } catch (e) {
        if (errno(e) !== "ENOENT") throw e;
      }
    }
    for (const pid of await this.pids()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch (e) {
        if (errno(e) !== "ESRCH") throw e;
      }
    }
  }

  /** Resolves once no process is left, killing again while any is (forks may race the first kill). */
  async waitEmpty(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
      if ((await this.pids()).length === 0) return true;
      if (performance.now() > deadline) return false;
      await this.killAll();
      await sleep(delay);
    }
  }

  /** Removes the (empty) cgroups; missing ones count as removed. */
  async remove(): Promise<void> {
    for (const dir of this.dirs()) {
      for (let attempt = 0; ; attempt++) {
        try {
          await rmdir(dir);
          break;
        } catch (e) {
          if (errno(e) === "ENOENT") break;
          if (errno(e) !== "EBUSY" || attempt >= 20) throw e;
          await sleep(5);
        }
      }
    }
  }
}
