/** Test fixtures for placement: worker loads from plain numbers, and seeded function keys. */
import type { WorkerLoad } from "./load.js";

export interface LoadSpec {
  state?: WorkerLoad["state"];
  totalMemoryMB?: number;
  freeMemoryMB?: number;
  cpu?: number;
  /** Sandboxes per configKey ("accountId/name/version/revision"); running = their sum + `otherSandboxes`. */
  sandboxes?: Record<string, number>;
  /** Sandboxes of accounts the test does not name. */
  otherSandboxes?: number;
}

export function workerLoad(id: string, spec: LoadSpec = {}): WorkerLoad {
  const per = spec.sandboxes ?? {};
  const running = Object.values(per).reduce((a, b) => a + b, 0) + (spec.otherSandboxes ?? 0);
  return {
    id,
    state: spec.state ?? "active",
    totalMemoryMB: spec.totalMemoryMB ?? 4096,
    freeMemoryMB: spec.freeMemoryMB ?? spec.totalMemoryMB ?? 4096,
    runningSandboxes: running,
    cpu: spec.cpu ?? 0,
    sandboxesOf: (configKey) => per[configKey] ?? 0,
    sandboxesOfAccount: (accountId) => Object.entries(per).reduce((n, [k, v]) => (k.startsWith(`${accountId}/`) ? n + v : n), 0),
  };
}

/** Deterministic pseudo-random function keys ("<12 digits>/fn-<hex>"), from a seed (mulberry32). */
export function randomFunctionKeys(count: number, seed: number): string[] {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return Array.from({ length: count }, () => `${String(next() % 1e12).padStart(12, "0")}/fn-${next().toString(16)}`);
}

export const workerIds = (n: number, prefix = "w"): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);
