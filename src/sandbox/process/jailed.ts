/**
 * Isolation "process": one generation of a jailed runtime. Creates the sandbox's cgroups, spawns the
 * launch chain planned by jail.ts, and kills through the cgroup (every process of the sandbox is in
 * it, bwrap included) or, without one, through bwrap (--die-with-parent takes the pid namespace down).
 */
import type { SandboxExit, SandboxSpec } from "../contract.js";
import { SandboxError } from "../errors.js";
import { SandboxCgroup, type CgroupHost } from "./cgroup.js";
import { planJail, type HostView, type JailOptions, type LayerView } from "./jail.js";
import { KILL_TIMEOUT_MS } from "./options.js";
import { treePeakBytes } from "./procfs.js";
import { decodeJailStatus, signal, spawnTree } from "./spawn.js";
import { within, type RuntimeTree, type TreeFactory } from "./tree.js";

export interface JailedContext {
  spec: SandboxSpec;
  command: string[];
  layers: LayerView[];
  host: HostView;
  options: JailOptions;
  cgroups: CgroupHost | undefined;
  maxProcesses: number;
  /** See JailInput.optDir / extraBinds. */
  optDir?: string;
  extraBinds?: Array<[hostPath: string, sandboxPath: string]>;
}

export function jailedTreeFactory(ctx: JailedContext): TreeFactory {
  return async (onOutput) => {
    const { spec } = ctx;
    let cgroup: SandboxCgroup | undefined;
    try {
      cgroup = ctx.cgroups === undefined ? undefined : await SandboxCgroup.create(ctx.cgroups, spec.id, { memoryMB: spec.memoryLimitMB ?? spec.memoryMB, maxProcesses: ctx.maxProcesses });
    } catch (e) {
      throw new SandboxError("cgroup", spec.id, `cannot create the sandbox's cgroups: ${(e as Error).message}`, e);
    }
    const plan = planJail({
      spec,
      command: ctx.command,
      layers: ctx.layers,
      host: ctx.host,
      options: ctx.options,
      cgroupProcs: cgroup?.procsFiles ?? [],
      ...(ctx.optDir !== undefined ? { optDir: ctx.optDir } : {}),
      ...(ctx.extraBinds !== undefined ? { extraBinds: ctx.extraBinds } : {}),
    });
    let spawned;
    try {
      spawned = await spawnTree({ argv: plan.argv, env: {}, fds: plan.fds, onOutput });
    } catch (e) {
      await cgroup?.remove().catch(() => undefined);
      throw new SandboxError("spawn-failed", spec.id, `cannot start ${plan.argv[0]}: ${(e as Error).message}`, e);
    }
    const { pid } = spawned;
    let done = false;
    const exited: Promise<SandboxExit> = spawned.closed.then(async (raw) => {
      done = true;
      const oomKilled = cgroup !== undefined && (await cgroup.oomKills().catch(() => 0)) > 0;
      return { ...decodeJailStatus(raw), oomKilled };
    });
    const tree: RuntimeTree = {
      pid,
      exited,
      async kill() {
        if (!done) signal(pid, "SIGKILL");
        if (cgroup !== undefined) await cgroup.killAll();
        const timeout = (): Error => new SandboxError("kill-timeout", spec.id, `the runtime did not exit ${KILL_TIMEOUT_MS} ms after SIGKILL`);
        await within(exited, KILL_TIMEOUT_MS, timeout);
        if (cgroup !== undefined && !(await cgroup.waitEmpty(KILL_TIMEOUT_MS))) throw timeout();
      },
      peakBytes: () => (cgroup !== undefined ? cgroup.peakBytes() : done ? Promise.resolve(0) : treePeakBytes(pid)),
      release: async () => {
        try {
          await cgroup?.remove();
        } catch (e) {
          throw new SandboxError("cgroup", spec.id, `cannot remove ${cgroup?.path}: ${(e as Error).message}`, e);
        }
      },
    };
    return tree;
  };
}
