/**
 * A runtime process tree: one generation of a sandbox's runtime (restartRuntime() replaces it).
 * Implemented by jailed.ts (isolation "process") and plain.ts (isolation "none"); sandbox.ts runs
 * the lifecycle over either.
 */
import type { SandboxExit } from "../contract.js";

export interface RuntimeTree {
  /** Host pid of the outermost process. */
  readonly pid: number;
  /** Resolves once the whole tree has exited and its output is drained. Never rejects. */
  readonly exited: Promise<SandboxExit>;
  /** SIGKILLs every process of the tree and resolves once they are gone (rejects after KILL_TIMEOUT_MS). */
  kill(): Promise<void>;
  /** Peak memory of the tree in bytes, 0 when unknown. */
  peakBytes(): Promise<number>;
  /** Frees what the tree held (its cgroup). Call after it exited. */
  release(): Promise<void>;
}

export type TreeFactory = (onOutput: (chunk: Buffer) => void) => Promise<RuntimeTree>;

/** Resolves with `p`, or rejects with `onTimeout()` after `ms`. */
export async function within<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(onTimeout()), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
