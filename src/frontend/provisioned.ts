/**
 * The provisioned concurrency keeper: turns the control plane's provisioned concurrency
 * configurations into targets for assignment, and reports their figures back.
 *
 * Algorithm: for each function, on every change to its configurations, aliases or versions,
 * resolve each configuration's qualifier to the function configuration(s) it runs: a version runs
 * itself; an alias runs its primary version, and with a routing configuration its additional
 * version gets round(n x weight) of the n environments. Configurations whose target moved (an alias
 * now pointing elsewhere, a deleted version) stop being provisioned: their environments become
 * on-demand ones. Changes to one function are applied one at a time, in order.
 *
 * Worked example: live -> "2" with {"3": 0.25}, 4 provisioned: "2" keeps 3 environments, "3"
 * keeps 1; Allocated is what exists of those 4. UpdateAlias live -> "3": "3" keeps 4, the 3
 * environments of "2" turn on-demand and are reaped after the keep-alive.
 *
 * Known caveats: figures live in memory; after a restart the configurations come back
 * IN_PROGRESS and their environments are initialized again.
 */
import type { Logger } from "../base/index.js";
import type { AssignmentPort } from "../assignment/index.js";
import type { FunctionRegistry, ResolvedFunction } from "../control/index.js";
import type { EnvironmentSpec } from "../worker/index.js";

export type ProvisionedStatus = "IN_PROGRESS" | "READY" | "FAILED";

interface Share {
  fn: ResolvedFunction;
  count: number;
  /** How many of `count` each qualifier asked for. */
  owners: Map<string, number>;
}

export interface KeeperDeps {
  registry: FunctionRegistry;
  assignment: AssignmentPort<EnvironmentSpec>;
  spec(fn: ResolvedFunction): EnvironmentSpec;
  log: Logger;
}

export class ProvisionedConcurrencyKeeper {
  /** Per function (`account/name`): configKey -> its provisioned share. */
  private readonly targets = new Map<string, Map<string, Share>>();
  private readonly queues = new Map<string, Promise<void>>();

  constructor(private readonly d: KeeperDeps) {
    d.registry.onChange((c) => {
      if (c.kind === "provisioned" || c.kind === "alias" || c.kind === "deleted" || c.kind === "version-deleted") void this.refresh(c.accountId, c.name);
    });
  }

  /** Brings back every configuration's environments (start-up). */
  async recover(): Promise<void> {
    const fns = new Set((await this.d.registry.concurrency.allProvisioned()).map((c) => `${c.accountId}/${c.functionName}`));
    await Promise.all([...fns].map((k) => this.refresh(k.slice(0, k.indexOf("/")), k.slice(k.indexOf("/") + 1))));
  }

  /** Re-applies one function's configurations; calls for one function run one after another. */
  refresh(accountId: string, name: string): Promise<void> {
    const key = `${accountId}/${name}`;
    const next = (this.queues.get(key) ?? Promise.resolve())
      .then(() => this.apply(accountId, name))
      .catch((e: unknown) => this.d.log.error("applying provisioned concurrency failed", { function: key, error: String(e) }));
    this.queues.set(key, next);
    void next.finally(() => {
      if (this.queues.get(key) === next) this.queues.delete(key);
    });
    return next;
  }

  private async apply(accountId: string, name: string): Promise<void> {
    const key = `${accountId}/${name}`;
    const configs = await this.d.registry.concurrency.listProvisioned(accountId, name);
    const shares = new Map<string, Share>();
    const add = (fn: ResolvedFunction, count: number, qualifier: string) => {
      if (count <= 0) return;
      const s = shares.get(fn.configKey) ?? { fn, count: 0, owners: new Map<string, number>() };
      s.count += count;
      s.owners.set(qualifier, (s.owners.get(qualifier) ?? 0) + count);
      shares.set(fn.configKey, s);
    };
    for (const c of configs) {
      const plan = await this.d.registry.resolvePlan(accountId, { name }, c.qualifier).catch(() => undefined);
      if (!plan) continue;
      const extra = plan.additional ? Math.round(c.requested * plan.additional.weight) : 0;
      add(plan.primary, c.requested - extra, c.qualifier);
      if (plan.additional) add(plan.additional.fn, extra, c.qualifier);
    }
    for (const configKey of this.targets.get(key)?.keys() ?? []) {
      if (!shares.has(configKey)) this.d.assignment.setProvisioned(configKey, undefined);
    }
    for (const [configKey, s] of shares) {
      this.d.assignment.setProvisioned(configKey, { count: s.count, memoryMB: s.fn.record.memorySize, spec: () => this.d.spec(s.fn) });
    }
    if (shares.size > 0) this.targets.set(key, shares);
    else this.targets.delete(key);
  }

  /** Allocated environments and status of one configuration (a version or an alias). */
  status(accountId: string, name: string, qualifier: string): { allocated: number; status: ProvisionedStatus; reason?: string } {
    let allocated = 0;
    let owned = 0;
    let failure: string | undefined;
    for (const [configKey, s] of this.targets.get(`${accountId}/${name}`) ?? []) {
      const mine = s.owners.get(qualifier);
      if (mine === undefined) continue;
      owned++;
      const live = this.d.assignment.provisionedStatus(configKey);
      allocated += Math.min(mine, live.allocated);
      if (live.status === "FAILED") failure = live.reason ?? "Kiln could not initialize a provisioned execution environment.";
    }
    const requested = [...(this.targets.get(`${accountId}/${name}`)?.values() ?? [])].reduce((n, s) => n + (s.owners.get(qualifier) ?? 0), 0);
    if (owned > 0 && allocated >= requested) return { allocated, status: "READY" };
    if (failure !== undefined) return { allocated, status: "FAILED", reason: failure };
    return { allocated, status: "IN_PROGRESS" };
  }
}
