/**
 * Starting a process tree and watching it end: the one place that calls child_process. Output
 * goes to the sandbox's onOutput as it arrives; `closed` resolves after the process exited AND its
 * stdout/stderr are drained (or, if asked, a grace period after the exit), so every byte is
 * delivered before an exit is reported.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { constants } from "node:os";
import type { Writable } from "node:stream";

export interface SpawnRequest {
  argv: string[];
  env: Record<string, string>;
  cwd?: string;
  /** Written to extra fds 3, 4, ... and closed, right after the spawn. */
  fds?: string[];
  /**
   * Report the exit this long after the process exited even if its stdout/stderr are still held
   * open (by a descendant that escaped the tree). Unset: wait for them to close.
   */
  closeGraceMs?: number;
  onOutput(chunk: Buffer): void;
}

export interface RawExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Spawned {
  child: ChildProcess;
  pid: number;
  closed: Promise<RawExit>;
}

/** Spawns in a new session (own process group); resolves once the process exists, rejects if it cannot. */
export async function spawnTree(req: SpawnRequest): Promise<Spawned> {
  const [file, ...args] = req.argv;
  if (file === undefined) throw new TypeError("empty argv");
  const fds = req.fds ?? [];
  const child = spawn(file, args, {
    env: req.env,
    cwd: req.cwd,
    detached: true,
    stdio: ["ignore", "pipe", "pipe", ...fds.map(() => "pipe" as const)],
  });
  const closed = new Promise<RawExit>((resolve) => {
    child.once("close", (code, signal) => resolve({ code, signal }));
    const grace = req.closeGraceMs;
    if (grace !== undefined) child.once("exit", (code, signal) => setTimeout(() => resolve({ code, signal }), grace).unref());
  });
  child.stdout?.on("data", req.onOutput);
  child.stderr?.on("data", req.onOutput);
  await new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", reject);
  });
  fds.forEach((data, i) => {
    const stream = child.stdio[3 + i] as Writable | null;
    stream?.on("error", () => undefined); // the child may exit before reading; its exit is reported instead
    stream?.end(data);
  });
  if (child.pid === undefined) throw new Error(`spawned ${file} without a pid`);
  return { child, pid: child.pid, closed };
}

/** Sends a signal, ignoring a process that is already gone. */
export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
  }
}

/**
 * bwrap reports a command killed by signal N as exit status 128 + N; undo that so a jailed runtime's
 * exit reads like a plain one. (A runtime that itself exits with 137 reads as SIGKILL: the same
 * ambiguity a shell has.)
 */
export function decodeJailStatus(raw: RawExit): RawExit {
  if (raw.code === null || raw.code <= 128) return raw;
  const n = raw.code - 128;
  const name = (Object.keys(constants.signals) as NodeJS.Signals[]).find((s) => constants.signals[s] === n);
  return name ? { code: null, signal: name } : raw;
}
