/**
 * The `microvm` driver: one QEMU `-M microvm` process per sandbox (see README.md).
 *
 * create(): guest image (cached, shared) + per-sandbox disks: the code and runtimes dirs and the
 * merged layers as read-only ext4 images cached by content, /tmp as a fresh writable ext4 disk of
 * `ephemeralStorageMB`; then QEMU, and the `run` message queued on the control channel (the agent
 * reads it once it is up). Resolves once QEMU is spawned, like the process driver.
 */
import { spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dirImage, ensureGuestImage, mkfsFromDir, type GuestImage } from "../../images/index.js";
import type { Logger } from "../../base/index.js";
import type { DriverCapabilities, Sandbox, SandboxDriver, SandboxEvents, SandboxSpec } from "../contract.js";
import { SandboxError } from "../errors.js";
import { SANDBOX_PATHS, runtimeCommand } from "../process/index.js";
import { hostTscKhz, probeAccelerator, type AcceleratorProbe } from "./accel.js";
import type { Accelerator, QemuDisk, QemuPlan } from "./qemu-args.js";
import { MicroVmSandbox } from "./sandbox.js";
import type { VmSnapshot } from "./snapshot.js";
import { Vm } from "./vm.js";

/** Guest RAM beyond the function's memory: the guest kernel, the agent and page cache (the runtime's cgroup gets exactly memoryMB). */
export const GUEST_OVERHEAD_MB = 64;
/** Lambda's default EphemeralStorage (512 MB). */
export const DEFAULT_EPHEMERAL_MB = 512;
export const DEFAULT_QEMU = "/usr/bin/qemu-system-x86_64";
export const SANDBOX_UID = 993;

export interface MicroVmDriverOptions {
  /** Host directory mounted read-only at /var/runtime (Kiln's runtimes). */
  runtimesDir?: string;
  /** Where VM run dirs and per-directory disk images go (default: <os tmp>/kiln-microvm). */
  workDir?: string;
  /** Guest image cache (default: KILN_IMAGE_CACHE or ~/.cache/kiln/images). */
  imageCache?: string;
  /** Force an accelerator instead of probing. */
  accel?: Accelerator;
  qemuBin?: string;
  socatPath?: string;
  ephemeralStorageMB?: number;
  logger?: Logger;
  /** Progress lines of an image build. */
  progress?: (line: string) => void;
}

export interface MicroVmDriver extends SandboxDriver {
  readonly name: "microvm";
  /** Builds/loads the image and probes the accelerator (create() does it on first use). */
  prepare(): Promise<{ image: GuestImage; accel: AcceleratorProbe }>;
  /** The plan a sandbox of `spec` boots with (disks built), for snapshots and tools. */
  plan(spec: SandboxSpec, runDir: string, extra?: Partial<QemuPlan>, tmpFrom?: string): Promise<QemuPlan>;
  /** Starts a sandbox from a plan without sending `run` (restores). */
  attach(spec: SandboxSpec, plan: QemuPlan, events: SandboxEvents, runDir: string): Promise<MicroVmSandbox>;
  runMessage(spec: SandboxSpec): { t: "run"; argv: string[]; env: Record<string, string>; cwd: string; memoryMB: number; uid: number };
  readonly workDir: string;
}

/** Copies a mostly-empty disk image keeping its holes (a reflink where the file system can). */
export function copySparse(from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("cp", ["--sparse=always", "--reflink=auto", from, to], { stdio: "ignore" });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`cp ${from} ${to}: exit ${code}`))));
  });
}

export function createMicroVmDriver(o: MicroVmDriverOptions = {}): MicroVmDriver {
  const workDir = o.workDir ?? join(tmpdir(), "kiln-microvm");
  /** Snapshots whose page-access log a clone is recording now. */
  const recording = new Set<string>();
  const qemuBin = o.qemuBin ?? DEFAULT_QEMU;
  const socatPath = o.socatPath ?? "/usr/bin/socat";
  let prepared: Promise<{ image: GuestImage; accel: AcceleratorProbe; tscKhz: number }> | undefined;
  const prepare = () =>
    (prepared ??= (async () => {
      const image = await ensureGuestImage({ ...(o.imageCache ? { cacheDir: o.imageCache } : {}), ...(o.progress ? { progress: o.progress } : {}) });
      const accel = await probeAccelerator({ qemuBin, kernel: image.kernel, initrd: image.initrd, ...(o.accel ? { force: o.accel } : {}) });
      o.logger?.info(`microvm: accelerator ${accel.accel}${accel.reason ? ` (${accel.reason})` : ""}`);
      return { image, accel, tscKhz: await hostTscKhz() };
    })());

  const runMessage = (spec: SandboxSpec) => {
    const argv = runtimeCommand(spec.runtime, spec.memoryMB, { runtimeDir: o.runtimesDir === undefined ? undefined : SANDBOX_PATHS.runtimeDir, taskDir: SANDBOX_PATHS.taskDir });
    if (argv === undefined) throw new SandboxError("misconfigured", spec.id, `runtime ${spec.runtime} needs the driver's runtimesDir`);
    return { t: "run" as const, argv, env: spec.env, cwd: SANDBOX_PATHS.taskDir, memoryMB: spec.memoryMB, uid: SANDBOX_UID };
  };

  const layersDisk = async (spec: SandboxSpec, runDir: string): Promise<string | undefined> => {
    if (spec.layerDirs.length === 0) return undefined;
    if (spec.layerDirs.length === 1) return dirImage(spec.layerDirs[0]!, { cacheDir: join(workDir, "disks") });
    // Later layers win per top-level entry (as the process driver binds them).
    const merged = await mkdtemp(join(runDir, "opt-"));
    const winner = new Map<string, string>();
    for (const l of spec.layerDirs) for (const e of await readdir(l)) winner.set(e, join(l, e));
    for (const [name, src] of winner) await cp(src, join(merged, name), { recursive: true, preserveTimestamps: true });
    try {
      return await dirImage(merged, { cacheDir: join(workDir, "disks") });
    } finally {
      await rm(merged, { recursive: true, force: true });
    }
  };

  const plan = async (spec: SandboxSpec, runDir: string, extra: Partial<QemuPlan> = {}, tmpFrom?: string): Promise<QemuPlan> => {
    const { image, accel, tscKhz } = await prepare();
    const disksDir = join(workDir, "disks");
    const tmpDisk = join(runDir, "tmp.ext4");
    if (tmpFrom) await copySparse(tmpFrom, tmpDisk);
    else await mkfsFromDir(undefined, tmpDisk, { sizeMB: o.ephemeralStorageMB ?? DEFAULT_EPHEMERAL_MB, rootOwner: `${SANDBOX_UID}:${SANDBOX_UID}`, journal: false });
    const disks: QemuDisk[] = [
      { serial: "kiln-root", file: image.rootfs, readonly: true },
      { serial: "kiln-tmp", file: tmpDisk, readonly: false },
      { serial: "kiln-task", file: await dirImage(spec.codeDir, { cacheDir: disksDir }), readonly: true },
    ];
    if (o.runtimesDir) disks.push({ serial: "kiln-runtime", file: await dirImage(o.runtimesDir, { cacheDir: disksDir }), readonly: true });
    const opt = await layersDisk(spec, runDir);
    if (opt) disks.push({ serial: "kiln-opt", file: opt, readonly: true });
    return {
      qemuBin,
      accel: accel.accel,
      kernel: image.kernel,
      initrd: image.initrd,
      ramMB: spec.memoryMB + GUEST_OVERHEAD_MB,
      disks,
      runtimeApiSocket: spec.runtimeApiSocket,
      socatPath,
      qmpSocket: join(runDir, "qmp.sock"),
      consoleLog: join(runDir, "console.log"),
      tscKhz,
      ...extra,
    };
  };

  const attach = async (spec: SandboxSpec, p: QemuPlan, events: SandboxEvents, runDir: string): Promise<MicroVmSandbox> => {
    let vm: Vm;
    try {
      vm = await Vm.start(p);
    } catch (e) {
      await rm(runDir, { recursive: true, force: true });
      throw new SandboxError("spawn-failed", spec.id, `cannot start ${qemuBin}: ${(e as Error).message}`, e);
    }
    return new MicroVmSandbox(spec.id, vm, events, () => rm(runDir, { recursive: true, force: true }));
  };

  const newRunDir = async (spec: SandboxSpec): Promise<string> => {
    const runDir = join(workDir, "vm", spec.id);
    await rm(runDir, { recursive: true, force: true });
    await mkdir(runDir, { recursive: true, mode: 0o700 });
    return runDir;
  };

  const driver: MicroVmDriver = {
    name: "microvm",
    workDir,
    prepare: async () => {
      const { image, accel } = await prepare();
      return { image, accel };
    },
    plan,
    attach,
    runMessage,
    capabilities(): DriverCapabilities {
      return { snapshot: true, memoryLimit: true, isolation: "kvm" };
    },
    async create(spec: SandboxSpec, events: SandboxEvents): Promise<Sandbox> {
      if (spec.startup?.kind === "snapshot-restore") {
        // A micro-VM SnapStart restore: `blob` is a VM snapshot's manifest (snapshot/vm/service.ts).
        const snap = JSON.parse(await readFile(spec.startup.blob, "utf8")) as VmSnapshot;
        const { restoreVmSnapshot } = await import("./snapshot.js");
        // The first clone of a snapshot records its page-access log (cold cache, first invocation);
        // later clones prefetch it while QEMU starts.
        const hasLog = existsSync(join(snap.dir, "pages.log"));
        const record = !hasLog && !recording.has(snap.dir);
        if (record) recording.add(snap.dir);
        const r = await restoreVmSnapshot(driver, snap, spec, events, { prefetch: hasLog, record }).catch((e: unknown) => {
          if (record) recording.delete(snap.dir);
          throw e;
        });
        void r.pageLogRecorded?.catch(() => undefined).finally(() => recording.delete(snap.dir));
        return r.sandbox;
      }
      if (spec.startup !== undefined) throw new SandboxError("misconfigured", spec.id, "V8 snapshot builds are the process driver's; micro-VMs snapshot the whole VM");
      for (const k of Object.keys(spec.env)) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new SandboxError("misconfigured", spec.id, `invalid environment variable name ${JSON.stringify(k)}`);
      const run = runMessage(spec);
      const runDir = await newRunDir(spec);
      const p = await plan(spec, runDir);
      const sandbox = await attach(spec, p, events, runDir);
      sandbox.send(run);
      return sandbox;
    },
  };
  return driver;
}
