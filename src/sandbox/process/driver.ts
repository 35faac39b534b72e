/**
 * createProcessDriver(): isolation "process" (bubblewrap jail + memory cgroup, driver name
 * "process") or "none" (plain child process, driver name "none"). Host facts are gathered once per
 * driver; each create() does the per-sandbox preparation and hands a tree factory to ProcessSandbox.
 */
import { chmod, chown } from "node:fs/promises";
import { join } from "node:path";
import {
  SNAPSHOT_BLOB_NAME,
  type DriverCapabilities,
  type PooledSandbox,
  type PooledSandboxSpec,
  type Sandbox,
  type SandboxDriver,
  type SandboxEvents,
  type SandboxSpec,
  type Specialization,
  type SpecializationResult,
} from "../contract.js";
import { SandboxError } from "../errors.js";
import { openLoopbackBridge } from "./bridge.js";
import { detectCgroups, type CgroupHost } from "./cgroup.js";
import { readHostView, readLayers } from "./host-view.js";
import { validateSpec, type HostView, type JailOptions } from "./jail.js";
import { jailedTreeFactory } from "./jailed.js";
import { resolveOptions, type ProcessDriverOptions, type ResolvedOptions } from "./options.js";
import { plainEnv, plainTreeFactory } from "./plain.js";
import { placeLayers, placeOne, placeTree } from "./place.js";
import {
  launcherCommand,
  runtimeCommand,
  SANDBOX_PATHS,
  SNAPSHOT_BLOB_IN_SANDBOX,
  SNAPSHOT_DIR_IN_SANDBOX,
  SNAPSHOT_ENTRY_IN_SANDBOX,
  type RuntimePaths,
  type StartupPaths,
} from "./runtime-command.js";
import { ProcessSandbox } from "./sandbox.js";
import type { TreeFactory } from "./tree.js";

export function createProcessDriver(options: ProcessDriverOptions): SandboxDriver {
  const o = resolveOptions(options);
  return o.isolation === "none" ? plainDriver(o) : jailedDriver(o);
}

function commandFor(spec: SandboxSpec, paths: RuntimePaths, startup?: StartupPaths): string[] {
  const command = runtimeCommand(spec.runtime, spec.memoryMB, paths, startup);
  if (command === undefined && startup !== undefined) throw new SandboxError("misconfigured", spec.id, `runtime ${spec.runtime} cannot start from a snapshot`);
  if (command === undefined) throw new SandboxError("misconfigured", spec.id, `runtime ${spec.runtime} needs the driver's runtimesDir, which is not set`);
  return command;
}

/** SandboxSpec.startup as a jail shows it: the files bound under /var/snapshot, the blob written to /tmp. */
function jailedStartup(spec: SandboxSpec): { startup?: StartupPaths; binds: Array<[string, string]> } {
  const s = spec.startup;
  if (s === undefined) return { binds: [] };
  if (s.kind === "snapshot-restore") return { startup: { kind: s.kind, blob: SNAPSHOT_BLOB_IN_SANDBOX }, binds: [[s.blob, SNAPSHOT_BLOB_IN_SANDBOX]] };
  return { startup: { kind: s.kind, entry: SNAPSHOT_ENTRY_IN_SANDBOX, blobOut: `/tmp/${SNAPSHOT_BLOB_NAME}` }, binds: [[s.entry, SNAPSHOT_ENTRY_IN_SANDBOX]] };
}

/** SandboxSpec.startup with host paths (isolation "none"). */
function plainStartup(spec: SandboxSpec): StartupPaths | undefined {
  const s = spec.startup;
  if (s === undefined) return undefined;
  return s.kind === "snapshot-restore" ? s : { kind: s.kind, entry: s.entry, blobOut: join(spec.tmpDir, SNAPSHOT_BLOB_NAME) };
}

/** A fresh spawn's spec for a pooled sandbox: its own task dir as the code, no layer binds (its opt dir is bound whole). */
const pooledAsSpec = (spec: PooledSandboxSpec): SandboxSpec => {
  const { taskDir, optDir, launcher, restore, ...rest } = spec;
  void optDir;
  void launcher;
  void restore;
  return { ...rest, codeDir: taskDir, layerDirs: [] };
};

/** The launcher's argv, or the misconfiguration that prevents it. */
function launcherFor(spec: SandboxSpec, runtimeDir: string | undefined): string[] {
  const argv = launcherCommand(runtimeDir);
  if (argv === undefined) throw new SandboxError("misconfigured", spec.id, "the exec launcher needs the driver's runtimesDir, which is not set");
  return argv;
}

/**
 * A pooled sandbox: the ProcessSandbox running its boot tree, plus specialize(), which places the
 * function (and, for a launcher sandbox, its snapshot), has restarts spawn `functionTree(env)` from
 * then on, and answers the env the waiting runtime must adopt (and the argv a launcher must exec).
 */
function pooledSandbox(
  sandbox: ProcessSandbox,
  spec: PooledSandboxSpec,
  functionTree: (env: Record<string, string>) => TreeFactory,
  runtimeEnv: (env: Record<string, string>) => Record<string, string>,
  launch?: { argv: string[] },
): PooledSandbox {
  let specialized = false;
  return Object.assign(sandbox, {
    async specialize(s: Specialization): Promise<SpecializationResult> {
      if (specialized) throw new SandboxError("specialized", spec.id, "this sandbox already belongs to a function");
      specialized = true;
      try {
        validateSpec({ ...pooledAsSpec(spec), env: s.env });
        if ((spec.launcher !== undefined) !== (s.snapshotBlob !== undefined)) throw new TypeError("a launcher sandbox takes a snapshot, and only a launcher sandbox does");
      } catch (e) {
        throw new SandboxError("misconfigured", spec.id, (e as Error).message, e);
      }
      const [code, layers, blob] = await Promise.all([
        placeTree(s.codeDir, spec.taskDir),
        readLayers(s.layerDirs).then((l) => placeLayers(l, spec.optDir)),
        spec.launcher && s.snapshotBlob ? placeOne(s.snapshotBlob, join(spec.launcher.snapshotDir, SNAPSHOT_BLOB_NAME)) : { files: 0, copied: 0 },
      ]);
      const env = runtimeEnv(s.env);
      sandbox.respawnWith(functionTree(env));
      return { env, files: code.files + layers.files + blob.files, copied: code.copied + layers.copied + blob.copied, ...(launch ? { argv: launch.argv } : {}) };
    },
  });
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
  const sandboxPaths: RuntimePaths = { ...SANDBOX_PATHS, runtimeDir: o.runtimesDir === undefined ? undefined : SANDBOX_PATHS.runtimeDir };
  const capabilities: DriverCapabilities = { snapshot: false, memoryLimit: cgroups !== undefined, isolation: "namespaces" };
  return {
    name: "process",
    capabilities: () => ({ ...capabilities }),
    async create(spec: SandboxSpec, events: SandboxEvents): Promise<Sandbox> {
      const { startup, binds } = jailedStartup(spec);
      const command = commandFor(spec, sandboxPaths, startup);
      validate(spec);
      const [host, layers] = await Promise.all([readHost(), readLayers(spec.layerDirs), isRoot ? handOver(spec, o.uid, o.gid, o) : undefined]);
      return ProcessSandbox.start(spec.id, jailedTreeFactory({ spec, command, layers, host, options, cgroups, maxProcesses: o.maxProcesses, extraBinds: binds }), events);
    },
    async createPooled(pooled: PooledSandboxSpec, events: SandboxEvents): Promise<PooledSandbox> {
      const spec = pooledAsSpec(pooled);
      validate(spec);
      const snapshotDir = pooled.launcher?.snapshotDir;
      // A launcher sandbox boots the launcher, then the function runs from the snapshot placed in
      // /var/snapshot; a pre-restored one boots from its version's snapshot, bound there directly.
      const restore = snapshotDir !== undefined || pooled.restore ? commandFor(spec, sandboxPaths, { kind: "snapshot-restore", blob: SNAPSHOT_BLOB_IN_SANDBOX }) : undefined;
      const boot = snapshotDir !== undefined ? launcherFor(spec, sandboxPaths.runtimeDir) : (restore ?? commandFor(spec, sandboxPaths));
      const binds: Array<[string, string]> = snapshotDir !== undefined ? [[snapshotDir, SNAPSHOT_DIR_IN_SANDBOX]] : pooled.restore ? [[pooled.restore.blob, SNAPSHOT_BLOB_IN_SANDBOX]] : [];
      const [host] = await Promise.all([readHost(), isRoot ? handOver(spec, o.uid, o.gid, o) : undefined, isRoot ? chown(pooled.optDir, o.uid, o.gid) : undefined]);
      const tree = (env: Record<string, string>, command: string[]): TreeFactory =>
        jailedTreeFactory({ spec: { ...spec, env }, command, layers: [], host, options, cgroups, maxProcesses: o.maxProcesses, optDir: pooled.optDir, extraBinds: binds });
      const sandbox = await ProcessSandbox.start(spec.id, tree(spec.env, boot), events);
      return pooledSandbox(sandbox, pooled, (env) => tree(env, restore ?? boot), (env) => env, snapshotDir !== undefined && restore ? { argv: restore } : undefined);
    },
  };

  function validate(spec: SandboxSpec): void {
    try {
      validateSpec(spec);
    } catch (e) {
      throw new SandboxError("misconfigured", spec.id, (e as Error).message, e);
    }
  }

  function readHost(): Promise<HostView> {
    hostView ??= readHostView().catch((e: unknown) => {
      hostView = undefined;
      throw e;
    });
    return hostView;
  }
}

function plainDriver(o: ResolvedOptions): SandboxDriver {
  return {
    name: "none",
    capabilities: () => ({ snapshot: false, memoryLimit: false, isolation: "none" }),
    async create(spec: SandboxSpec, events: SandboxEvents): Promise<Sandbox> {
      const command = commandFor(spec, { runtimeDir: o.runtimesDir, taskDir: spec.codeDir }, plainStartup(spec));
      const bridge = await openLoopbackBridge(spec.runtimeApiSocket);
      const env = plainEnv(spec, bridge.address, o.runtimesDir);
      return ProcessSandbox.start(spec.id, plainTreeFactory(spec, command, env), events, () => bridge.close());
    },
    async createPooled(pooled: PooledSandboxSpec, events: SandboxEvents): Promise<PooledSandbox> {
      const spec = pooledAsSpec(pooled);
      const paths = { runtimeDir: o.runtimesDir, taskDir: spec.codeDir };
      const snapshotDir = pooled.launcher?.snapshotDir;
      const blob = snapshotDir !== undefined ? join(snapshotDir, SNAPSHOT_BLOB_NAME) : pooled.restore?.blob;
      const restore = blob !== undefined ? commandFor(spec, paths, { kind: "snapshot-restore", blob }) : undefined;
      const boot = snapshotDir !== undefined ? launcherFor(spec, o.runtimesDir) : (restore ?? commandFor(spec, paths));
      const bridge = await openLoopbackBridge(spec.runtimeApiSocket);
      const runtimeEnv = (env: Record<string, string>): Record<string, string> => plainEnv({ ...spec, env }, bridge.address, o.runtimesDir);
      const tree = (env: Record<string, string>, command: string[]): TreeFactory => plainTreeFactory(spec, command, env);
      const sandbox = await ProcessSandbox.start(spec.id, tree(runtimeEnv(spec.env), boot), events, () => bridge.close());
      return pooledSandbox(sandbox, pooled, (env) => tree(env, restore ?? boot), runtimeEnv, snapshotDir !== undefined && restore ? { argv: restore } : undefined);
    },
  };
}
