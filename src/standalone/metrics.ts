/**
 * What `GET /kiln/2026-01-01/metrics` tells an operator (root only): which sandbox driver runs the
 * functions, for micro-VMs the accelerator the start-up probe chose (kvm, or tcg with the reason
 * KVM was not usable), how many execution environments exist, and the pre-initialized pool.
 * A pure function over what the server already knows; the route and the wiring stay thin.
 */
import type { AcceleratorProbe } from "../sandbox/index.js";

export interface OperatorMetrics {
  sandbox: {
    driver: string;
    /** "kvm" or "tcg" for micro-VMs; null for drivers without one (process). */
    accelerator: AcceleratorProbe["accel"] | null;
    /** Why KVM was not chosen; null when it was, or when there is no accelerator. */
    acceleratorReason: string | null;
  };
  environments: number;
  pool: { enabled: boolean } & Record<string, unknown>;
}

export function operatorMetrics(o: { driver: string; accelerator?: AcceleratorProbe; environments: number; pool?: object }): OperatorMetrics {
  return {
    sandbox: { driver: o.driver, accelerator: o.accelerator?.accel ?? null, acceleratorReason: o.accelerator?.reason ?? null },
    environments: o.environments,
    pool: { enabled: o.pool !== undefined, ...o.pool },
  };
}
