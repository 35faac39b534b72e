/**
 * createProcessDriver(): isolation "process" (bubblewrap jail + memory cgroup, driver name
 * "process") or "none" (plain child process, driver name "none"). Host facts are gathered once per
 * driver; each create() does the per-sandbox preparation and hands a tree factory to ProcessSandbox.
 */
import { chmod, chown } from "node:fs/promises";
import type { DriverCapabilities, Sandbox, SandboxDriver, SandboxEvents, SandboxSpec } from "../contract.js";
import { SandboxError } from "../errors.js";
import { openLoopbackBridge } from "./bridge.js";
import { detectCgroups, type CgroupHost } from "./cgroup.js";
import { readHostView, readLayers } from "./host-view.js";
import { validateSpec, type HostView, type JailOptions } from "./jail.js";
import { jailedTreeFactory } from "./jailed.js";
import { resolveOptions, type ProcessDriverOptions, type ResolvedOptions } from "./options.js";
import { plainEnv, plainTreeFactory } from "./plain.js";
import { runtimeCommand, SANDBOX_PATHS } from "./runtime-command.js";
import { ProcessSandbox } from "./sandbox.js";

export function createProcessDriver(options: ProcessDriverOptions): SandboxDriver {
  const o = resolveOptions(options);
  return o.isolation === "none" ? plainDriver(o) : jailedDriver(o);
}

function commandFor(spec: SandboxSpec, paths: { runtimeDir: string | undefined; taskDir: string }): string[] {
  const command = runtimeCommand(spec.runtime, spec.memoryMB, paths);
  if (command === undefined) throw new SandboxError("misconfigured", spec.id, `runtime ${spec.runtime} needs the driver's runtimesDir, which is not set`);
  return command;
}

/** Looks for a memory controller once; without one, warns once and runs without limits. */
function findCgroups(o: ResolvedOptions): CgroupHost | undefined {
  if (o.cgroupRoot === false) {
    o.logger.warn("sandbox memory limits are disabled by configuration: functions can use all the host's memory");
    return undefined;
  }
  try {
    const found = detectCgroups(o.cgroupRoot);
    if (found === undefined) o.logger.warn("no memory cgroup controller found: sandboxes run WITHOUT a memory limit", { cgroupRoot: o.cgroupRoot });
    else if (!found.pids) o.logger.warn("no pids cgroup controller found: sandboxes run without a process limit", { cgroupRoot: o.cgroupRoot });
    return found;
  } catch (e) {
    o.logger.warn("memory cgroups are not usable: sandboxes run WITHOUT a memory limit", { cgroupRoot: o.cgroupRoot, error: (e as Error).message });
    return undefined;
  }
}

/** The sandbox uid must be able to write /tmp and connect to the Runtime API socket. */
async function handOver(spec: SandboxSpec, uid: number, gid: number, o: ResolvedOptions): Promise<void> {
  await chown(spec.tmpDir, uid, gid);
  await chmod(spec.tmpDir, 0o700);
  try {
    await chown(spec.runtimeApiSocket, uid, gid);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    o.logger.warn("the Runtime API socket does not exist yet; it must be connectable by the sandbox uid", { sandbox: spec.id, socket: spec.runtimeApiSocket, uid });
  }
}

function jailedDriver(o: ResolvedOptions): SandboxDriver {
  const isRoot = process.getuid?.() === 0;
  if (!isRoot) o.logger.warn("Kiln is not running as root: sandboxes run as Kiln's own uid, not a dedicated one", { uid: process.getuid?.() });
  const cgroups = findCgroups(o);
  const options: JailOptions = {
    uid: isRoot ? o.uid : (process.getuid?.() ?? o.uid),
    gid: isRoot ? o.gid : (process.getgid?.() ?? o.gid),
    switchUser: isRoot,
    shPath: o.shPath,
    setprivPath: o.setprivPath,
    bwrapPath: o.bwrapPath,
    socatPath: o.socatPath,
    runtimesDir: o.runtimesDir,
  };
  let hostView: Promise<HostView> | undefined;
  const capabilities: DriverCapabilities = { snapshot: false, memoryLimit: cgroups !== undefined, isolation: "namespaces" };
  return {
    name: "process",
    capabilities: () => ({ ...capabilities }),
    async create(spec: SandboxSpec, events: SandboxEvents): Promise<Sandbox> {
      const command = commandFor(spec, { ...SANDBOX_PATHS, runtimeDir: o.runtimesDir === undefined ? undefined : SANDBOX_PATHS.runtimeDir });
      try {
        validateSpec(spec);
      } catch (e) {
        throw new SandboxError("misconfigured", spec.id, (e as Error).message, e);
      }
      hostView ??= readHostView().catch((e: unknown) => {
        hostView = undefined;
        throw e;
      });
      const [host, layers] = await Promise.all([hostView, readLayers(spec.layerDirs), isRoot ? handOver(spec, o.uid, o.gid, o) : undefined]);
      return ProcessSandbox.start(spec.id, jailedTreeFactory({ spec, command, layers, host, options, cgroups, maxProcesses: o.maxProcesses }), events);
    },
  };
}

function plainDriver(o: ResolvedOptions): SandboxDriver {
  return {
    name: "none",
    capabilities: () => ({ snapshot: false, memoryLimit: false, isolation: "none" }),
    async create(spec: SandboxSpec, events: SandboxEvents): Promise<Sandbox> {
      const command = commandFor(spec, { runtimeDir: o.runtimesDir, taskDir: spec.codeDir });
      const bridge = await openLoopbackBridge(spec.runtimeApiSocket);
      const env = plainEnv(spec, bridge.address, o.runtimesDir);
      return ProcessSandbox.start(spec.id, plainTreeFactory(spec, command, env), events, () => bridge.close());
    },
  };
}
