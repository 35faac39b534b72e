/**
 * One memory cgroup per sandbox, on cgroup v1 or v2. Thin file I/O; parsing is pure and exported
 * for tests.
 *
 *   v1 (/sys/fs/cgroup/memory mounted):  <root>/memory/kiln/<id>/memory.limit_in_bytes (+ memsw),
 *       peak memory.max_usage_in_bytes, OOM kills from memory.oom_control `oom_kill N`.
 *   v2 (<root>/cgroup.controllers lists memory):  <root>/kiln/<id>/memory.max, memory.swap.max 0,
 *       memory.oom.group 1, peak memory.peak (or memory.current), OOM kills from memory.events.
 *
 * The sandbox joins the cgroup before anything runs (jail.ts LAUNCH_SCRIPT). A cgroup lives as
 * long as one runtime process tree: restartRuntime() removes it and creates a fresh one, which is
 * how the peak and the OOM counter restart at zero on both versions (v2's memory.peak cannot be
 * reset for everyone).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CGROUP_PARENT_NAME } from "./options.js";

export interface CgroupHost {
  version: 1 | 2;
  /** The directory that holds one cgroup per sandbox (…/kiln). */
  parent: string;
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
 * Finds a usable memory controller under `root` and prepares the `kiln` parent (v2: enables the
 * memory controller for it). Undefined when there is none; throws when one exists but cannot be
 * used (not root, a v2 root with processes in it, ...). Synchronous: runs once, when a driver is made.
 */
export function detectCgroups(root: string): CgroupHost | undefined {
  const controllers = readTextSync(join(root, "cgroup.controllers"));
  if (controllers !== undefined && controllers.split(/\s+/).includes("memory")) {
    const parent = join(root, CGROUP_PARENT_NAME);
    writeFileSync(join(root, "cgroup.subtree_control"), "+memory");
    mkdirSync(parent, { recursive: true });
    writeFileSync(join(parent, "cgroup.subtree_control"), "+memory");
    return { version: 2, parent };
  }
  const v1 = join(root, "memory");
  if (readTextSync(join(v1, "memory.limit_in_bytes")) !== undefined) {
    const parent = join(v1, CGROUP_PARENT_NAME);
    mkdirSync(parent, { recursive: true });
    return { version: 1, parent };
  }
  return undefined;
}

export class MemoryCgroup {
  readonly path: string;
  readonly procsFile: string;

  private constructor(
    readonly host: CgroupHost,
    name: string,
  ) {
    this.path = join(host.parent, name);
    this.procsFile = join(this.path, "cgroup.procs");
  }

  /** Creates (or, if a stale one is left over and empty, recreates) the cgroup and sets the limit. */
  static async create(host: CgroupHost, name: string, memoryMB: number): Promise<MemoryCgroup> {
    const cg = new MemoryCgroup(host, name);
    try {
      await mkdir(cg.path);
    } catch (e) {
      if (errno(e) !== "EEXIST") throw e;
      await cg.killAll();
      await cg.remove();
      await mkdir(cg.path);
    }
    const bytes = String(memoryMB * 1024 * 1024);
    if (host.version === 1) {
      await writeFile(join(cg.path, "memory.limit_in_bytes"), bytes);
      await writeOptional(join(cg.path, "memory.memsw.limit_in_bytes"), bytes);
    } else {
      await writeFile(join(cg.path, "memory.max"), bytes);
      await writeOptional(join(cg.path, "memory.swap.max"), "0");
      await writeOptional(join(cg.path, "memory.oom.group"), "1");
    }
    return cg;
  }

  /** Peak memory of the tree in bytes (v2 without memory.peak: current usage). */
  async peakBytes(): Promise<number> {
    if (this.host.version === 1) return Number(await readText(join(this.path, "memory.max_usage_in_bytes"))) || 0;
    const peak = await readText(join(this.path, "memory.peak"));
    return Number(peak ?? (await readText(join(this.path, "memory.current")))) || 0;
  }

  /** How many processes the kernel OOM-killed in this cgroup. */
  async oomKills(): Promise<number> {
    return this.host.version === 1
      ? readCounter(await readText(join(this.path, "memory.oom_control")), "oom_kill")
      : readCounter(await readText(join(this.path, "memory.events")), "oom_kill");
  }

  async pids(): Promise<number[]> {
    return parsePids(await readText(this.procsFile));
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

  /** Removes the (empty) cgroup; a missing one counts as removed. */
  async remove(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await rmdir(this.path);
        return;
      } catch (e) {
        if (errno(e) === "ENOENT") return;
        if (errno(e) !== "EBUSY" || attempt >= 20) throw e;
        await sleep(5);
      }
    }
  }
}
