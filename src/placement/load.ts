/**
 * What placement knows about a worker: its live load signals, as the worker reported them in its
 * last heartbeat (standalone: read in process at each decision). Plain data; no behaviour here.
 */

export type WorkerState = "active" | "draining";

export interface WorkerLoad {
  id: string;
  /** Only "active" workers get new sandboxes; "draining" ones keep serving what they host. */
  state: WorkerState;
  /** Memory the worker may hand to sandboxes, MB. */
  totalMemoryMB: number;
  /** totalMemoryMB minus the memory sizes of the sandboxes it hosts, MB. */
  freeMemoryMB: number;
  /** Sandboxes (execution environments) the worker hosts, idle or busy. */
  runningSandboxes: number;
  /** CPU utilisation of the worker's host over the last heartbeat window, 0..1. */
  cpu: number;
  /** Sandboxes of one function configuration ("accountId/name/version/revision"). */
  sandboxesOf(configKey: string): number;
  /** Sandboxes of every function of one account (the correlation proxy, see score.ts). */
  sandboxesOfAccount(accountId: string): number;
}

export interface PlacementRequest {
  /** The function configuration a new sandbox is for: "accountId/name/version/revision". */
  configKey: string;
  memoryMB: number;
  /** "accountId/functionName", the unit of shuffle sharding (default: the configKey's first two segments). */
  functionKey?: string;
}

/** A load placement can reason about: every number finite, memory sizes non-negative, a positive total. */
export function isKnown(w: WorkerLoad): boolean {
  return (
    Number.isFinite(w.totalMemoryMB) &&
    w.totalMemoryMB > 0 &&
    Number.isFinite(w.freeMemoryMB) &&
    Number.isFinite(w.runningSandboxes) &&
    Number.isFinite(w.cpu)
  );
}
