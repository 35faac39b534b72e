/**
 * The worker lease: what a worker node does at each tick of its life. Pure; WorkerLifetime
 * (lifetime.ts) runs it on a timer and performs the actions.
 *
 * Algorithm: a worker lives at most `leaseMs` from its start (default 14 h). It stays `active`
 * until `leaseEnd - drainWindow`, or until asked to drain (`kiln worker drain`, POST /v1/drain,
 * NATS `kiln.worker.<id>.drain`, the capacity manager). Then it is `draining`: placement skips it,
 * it takes no new environments, idle environments are reaped (reported dead so assignment forgets
 * them), busy ones run to completion. Once nothing is left, or `maxBusyWaitMs` (the longest
 * function timeout, 15 min) after the drain started, it is `drained`: deregister and exit.
 *
 * Worked example (lease 14 h, drain window 16 min): started at 08:00, the drain starts at 21:44;
 * two idle environments are reaped at once; one invocation that started at 21:40 with a 15-minute
 * timeout finishes at 21:52 and its environment is reaped; at 21:52 nothing is left -> drained,
 * eight minutes before the lease ends. Had it still been running at 21:59 (drain + 15 min), the
 * worker would have ended it by force.
 *
 * Known caveats: the lease is counted by the worker's own clock; an environment leased by
 * assignment just as the worker reaps it gets 410 EnvironmentGone on invoke (retryable).
 */

/** Lambda's execution environments are recycled after hours; Kiln's worker hosts live at most 14 h by default. */
export const DEFAULT_LEASE_MS = 14 * 3_600_000;
/** The longest function timeout Lambda allows (15 minutes): no invocation outlives a drain by more. */
export const MAX_FUNCTION_TIMEOUT_MS = 15 * 60_000;
/** Drain starts this long before the lease ends: the longest invocation, plus a minute to reap and deregister. */
export const DEFAULT_DRAIN_WINDOW_MS = MAX_FUNCTION_TIMEOUT_MS + 60_000;

export type LifetimePhase = "active" | "draining" | "drained";
export type DrainReason = "lease" | "requested";

export interface LifetimeView {
  phase: LifetimePhase;
  now: number;
  leaseEndsAt: number;
  drainWindowMs: number;
  drainRequested: boolean;
  drainStartedAt?: number;
  /** Environments with no invocation in flight. */
  idle: readonly string[];
  /** Environments running an invocation or being created. */
  busy: number;
  maxBusyWaitMs: number;
}

export type LifetimeAction =
  | { kind: "hold" }
  | { kind: "start-drain"; reason: DrainReason }
  | { kind: "reap"; environmentIds: string[] }
  | { kind: "finish"; forced: boolean };

export function lifetimeStep(v: LifetimeView): LifetimeAction {
  switch (v.phase) {
    case "drained":
      return { kind: "hold" };
    case "active":
      if (v.drainRequested) return { kind: "start-drain", reason: "requested" };
      if (v.now >= v.leaseEndsAt - v.drainWindowMs) return { kind: "start-drain", reason: "lease" };
      return { kind: "hold" };
    case "draining":
      if (v.idle.length > 0) return { kind: "reap", environmentIds: [...v.idle] };
      if (v.busy === 0) return { kind: "finish", forced: false };
      if (v.now >= (v.drainStartedAt ?? v.now) + v.maxBusyWaitMs) return { kind: "finish", forced: true };
      return { kind: "hold" };
  }
}
