/**
 * What a process tree costs the host, from /proc. Memory: RSS counts every resident page each
 * process maps (shared library pages once per process), PSS divides each shared page among the
 * processes that map it, so PSS summed over many sandboxes is what they really cost together.
 * CPU: user + system time of every live process in the tree (all threads, clock ticks of 10 ms).
 */
import { readFileSync, readdirSync } from "node:fs";

export interface TreeMemory {
  rssKB: number;
  pssKB: number;
  processes: number;
}

/** `pid` and all its descendants (breadth-first, at most 256). */
export function processTree(pid: number): number[] {
  const tree = [pid];
  for (let i = 0; i < tree.length && tree.length < 256; i++) tree.push(...childPids(tree[i]!));
  return tree;
}

/** Rss and Pss lines of /proc/<pid>/smaps_rollup, in kB (undefined when the process is gone). */
export function smapsRollup(pid: number): { rssKB: number; pssKB: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  } catch {
    return undefined;
  }
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(text)?.[1] ?? 0);
  return { rssKB: field("Rss"), pssKB: field("Pss") };
}

export function treeMemory(pid: number): TreeMemory {
  const total: TreeMemory = { rssKB: 0, pssKB: 0, processes: 0 };
  for (const p of processTree(pid)) {
    const m = smapsRollup(p);
    if (!m) continue;
    total.rssKB += m.rssKB;
    total.pssKB += m.pssKB;
    total.processes++;
  }
  return total;
}

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** utime + stime of one process (all its threads), ms; 0 when it is gone. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesized command name: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

/** CPU ms used so far by `pid` and its live descendants, split into the root and the rest. */
export function treeCpuMs(pid: number): { root: number; descendants: number } {
  const [root, ...rest] = processTree(pid);
  return { root: cpuMs(root!), descendants: rest.reduce((a, p) => a + cpuMs(p), 0) };
}

/** Direct children of `pid`, from /proc/<pid>/task/<tid>/children. */
export function childPids(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) => {
      try {
        return readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8")
          .split(" ")
          .filter((s) => s.trim() !== "")
          .map(Number);
      } catch {
        return [];
      }
    });
  } catch {
    return [];
  }
}
