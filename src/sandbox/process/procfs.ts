/**
 * Process trees from /proc, for when there is no cgroup (isolation "none", or hosts without a
 * memory controller): the pids of a tree (to kill it), and its peak memory as the largest VmHWM
 * (peak resident set) among its processes. The peak is an estimate: it misses short-lived
 * children and does not add up processes that peaked at different times.
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

/** The pids of the tree rooted at `pid` (itself first), as far as /proc still links them. */
export async function treePids(pid: number, limit = 1024): Promise<number[]> {
  const pids = [pid];
  for (let i = 0; i < pids.length && pids.length < limit; i++) pids.push(...(await children(pids[i]!)));
  return pids;
}

/** The largest VmHWM in the tree rooted at `pid`, in bytes (0 when the tree is gone). */
export async function treePeakBytes(pid: number): Promise<number> {
  const statuses = await Promise.all((await treePids(pid)).map((p) => readFile(`/proc/${p}/status`, "utf8").catch(() => "")));
  return Math.max(0, ...statuses.map(parseVmHwmBytes));
}
