/**
 * What the frontend needs from assignment. Standalone: the in-process AssignmentService. Cluster:
 * a client of the partition leaders (src/cluster/assignment), which holds the same service.
 * Every argument and result is plain data (or a callback evaluated on the caller's side), so the
 * port crosses a network unchanged.
 */
import type { ProvisionedStatus } from "./provisioned.js";
import type { Lease } from "./service.js";

/** Which environments a drain stops: configuration keys starting with `prefix`, but `except`. */
export interface DrainScope {
  prefix: string;
  except?: string;
}

export interface ProvisionedFigures {
  target: number;
  allocated: number;
  status: ProvisionedStatus;
  reason?: string;
}

export interface AssignmentPort<Spec> {
  /**
   * A lease on an environment of `configKey`: a warm one, else a new one (cold start) when
   * `mayScaleUp` allows it, else ScalingThrottledError (NoCapacityError when no worker has room).
   * `spec` is asked for only on a cold start.
   */
  acquire(configKey: string, memoryMB: number, spec: () => Spec, mayScaleUp?: () => boolean): Promise<Lease>;
  /** The lease's invocation is over; `healthy: false` destroys the environment. */
  release(lease: Lease, healthy: boolean): void;
  /** Stops new work reaching the scope's environments; idle ones go now, busy ones when done. */
  drain(scope: DrainScope): void;
  /** Keeps `target.count` initialized environments of `configKey`, or with undefined, stops. */
  setProvisioned(configKey: string, target: { count: number; memoryMB: number; spec: () => Spec } | undefined): void;
  /** The latest known figures (a cluster client answers from what the leader last reported). */
  provisionedStatus(configKey: string): ProvisionedFigures;
}

export const inScope = (s: DrainScope) => (configKey: string): boolean => configKey.startsWith(s.prefix) && configKey !== s.except;
