/**
 * Peak memory without a cgroup (isolation "none", or hosts without a memory controller): the
 * largest VmHWM (peak resident set) among the processes of a tree, read from /proc. An estimate:
 * it misses short-lived children and does not add up processes that peaked at different times.
 */
import { readFile, readdir } from "node:fs/promises";

/** `VmHWM:   12345 kB` in /proc/<pid>/status -> bytes (0 when absent). */
export function parseVmHwmBytes(status: string): number {
  const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

async function children(pid: number): Promise<number[]> {
  try {
    const tids = await readdir(`/proc/${pid}/task`);
    const lists = await Promise.all(tids.map((tid) => readFile(`/proc/${pid}/task/${tid}/children`, "utf8").catch(() => "")));
    return lists.flatMap((l) => l.split(" ").filter((s) => s !== "").map(Number));
  } catch {
    return [];
  }
}

/** The largest VmHWM in the tree rooted at `pid`, in bytes (0 when the tree is gone). */
export async function treePeakBytes(pid: number): Promise<number> {
  let peak = 0;
  const queue = [pid];
  for (let i = 0; i < queue.length && i < 256; i++) {
    const p = queue[i]!;
    const status = await readFile(`/proc/${p}/status`, "utf8").catch(() => "");
    peak = Math.max(peak, parseVmHwmBytes(status));
    queue.push(...(await children(p)));
  }
  return peak;
}
