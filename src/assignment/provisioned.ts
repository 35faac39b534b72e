/**
 * Provisioned concurrency, the decision half: given how many initialized environments a
 * configuration should keep and what it has, what to create and what to retire.
 *
 * Algorithm: environments being initialized count as on their way (never created twice). Short
 * of the target, create the difference. Over it, retire the excess: idle environments first
 * (destroyed now), then busy ones (demoted to on-demand: their invocation finishes, the keep-alive
 * reaps them later); initializing ones are left to finish and are retired as idle on a later pass.
 * Allocated = initialized provisioned environments (idle or busy); the configuration is READY when
 * allocated reaches the target, FAILED when the last attempt to create one failed, else IN_PROGRESS.
 *
 * Worked example: target 3, nothing yet -> create 3 (IN_PROGRESS, allocated 0). Two finish ->
 * allocated 2. The third fails -> FAILED; the next pass creates one again. Target lowered to 1 with
 * [idle e1, busy e2, idle e3] -> destroy the idle e1 and e3, keep the busy e2.
 *
 * Known caveats: AWS allocates provisioned concurrency at a bounded rate; Kiln creates the whole
 * difference at once, so a large target on a small host competes with on-demand cold starts.
 */

export interface ProvisionedView {
  initializing: number;
  idle: string[];
  busy: string[];
}

export interface ProvisionedPlan {
  create: number;
  destroy: string[];
  demote: string[];
}

export function provisionedPlan(target: number, view: ProvisionedView): ProvisionedPlan {
  const initialized = view.idle.length + view.busy.length;
  const have = initialized + view.initializing;
  if (have < target) return { create: target - have, destroy: [], demote: [] };
  let excess = Math.min(initialized, have - target);
  const destroy = view.idle.slice(0, excess);
  excess -= destroy.length;
  return { create: 0, destroy, demote: view.busy.slice(0, excess) };
}

export type ProvisionedStatus = "IN_PROGRESS" | "READY" | "FAILED";

export function provisionedStatus(target: number, view: ProvisionedView, failure: string | undefined): { allocated: number; status: ProvisionedStatus } {
  const allocated = view.idle.length + view.busy.length;
  if (allocated >= target) return { allocated, status: "READY" };
  return { allocated, status: failure !== undefined ? "FAILED" : "IN_PROGRESS" };
}
