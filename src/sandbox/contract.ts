/** The sandbox driver contract. Every driver passes the shared suite in `sandbox.case.ts`. */

export const SUPPORTED_RUNTIMES = ["nodejs20.x", "python3.11", "provided.al2023", "provided.al2"] as const;
export type RuntimeName = (typeof SUPPORTED_RUNTIMES)[number];
export const isSupportedRuntime = (r: string): r is RuntimeName => (SUPPORTED_RUNTIMES as readonly string[]).includes(r);

/** Where the Runtime API answers inside every sandbox (the value of AWS_LAMBDA_RUNTIME_API). */
export const RUNTIME_API_ADDRESS = "127.0.0.1:9001";

export interface SandboxSpec {
  /** Unique id of this execution environment. */
  id: string;
  runtime: RuntimeName;
  /** Host directory holding the function's unpacked code; mounted read-only at /var/task. */
  codeDir: string;
  /** Host directories of the function's layers, merged read-only under /opt in order (may be empty). */
  layerDirs: string[];
  /** Host directory private to this sandbox, mounted read-write at /tmp; survives restartRuntime(). */
  tmpDir: string;
  /** The complete environment of the runtime process. Built by the worker; nothing is inherited from the host. */
  env: Record<string, string>;
  memoryMB: number;
  /** Host path of the unix socket the worker serves this sandbox's Runtime API on. */
  runtimeApiSocket: string;
  /** How the runtime process starts (default: its bootstrap). Snapshots exist for nodejs runtimes only. */
  startup?: RuntimeStartup;
  /** The memory cgroup's limit when it must differ from memoryMB (snapshot builds serialize the heap). */
  memoryLimitMB?: number;
}

/**
 * A runtime start other than the bootstrap (SnapStart, nodejs only):
 * - `snapshot-restore`: start Node from a V8 startup snapshot (host file `blob`, bound read-only at
 *   /var/snapshot/snapshot.blob); the snapshot's deserialize-main runs instead of init.
 * - `snapshot-build`: run the builder script (host file `entry`, bound read-only at
 *   /var/snapshot/entry.cjs) with `--build-snapshot`; the blob is written to /tmp/snapshot.blob,
 *   i.e. `<tmpDir>/snapshot.blob` on the host. The runtime exits when the blob is written.
 * Both pass Node the same heap cap as a plain start: V8 refuses a blob built under other flags.
 */
export type RuntimeStartup = { kind: "snapshot-restore"; blob: string } | { kind: "snapshot-build"; entry: string };

/** Where the builder writes the blob, relative to the sandbox's tmp dir. */
export const SNAPSHOT_BLOB_NAME = "snapshot.blob";

/**
 * A pre-initialized sandbox (a "zygote"): jailed, runtime booted, not yet any function's. Its
 * /var/task and /opt are empty directories private to it; specialize() places one function's code
 * and layers there (hard links, or copies across file systems) for good.
 */
export interface PooledSandboxSpec extends Omit<SandboxSpec, "codeDir" | "layerDirs" | "startup"> {
  /** Empty host directory private to this sandbox, bound read-only at /var/task. */
  taskDir: string;
  /** Empty host directory private to this sandbox, bound read-only at /opt. */
  optDir: string;
  /**
   * Run Kiln's exec launcher (runtimesDir/launcher/launch.py) instead of the runtime: it waits for
   * its specialization and exec()s the command it is given (SnapStart restores). `snapshotDir`, an
   * empty host directory private to the sandbox, is bound read-only at /var/snapshot and receives
   * the snapshot at specialization.
   */
  launcher?: { snapshotDir: string };
  /**
   * Boot the runtime from this snapshot (host path; bound read-only at /var/snapshot/snapshot.blob):
   * a sandbox pre-restored for the one version the snapshot belongs to. The snapshot's main waits
   * for its specialization (the environment) before the after-restore hooks and the first invoke.
   */
  restore?: { blob: string };
}

export interface Specialization {
  /** The function's unpacked code (placed into the sandbox's task dir). */
  codeDir: string;
  /** The function's layers, later ones winning per top-level entry (placed into its opt dir). */
  layerDirs: string[];
  /** The function's environment, as a fresh spawn would get it in SandboxSpec.env. */
  env: Record<string, string>;
  /** Launcher sandboxes: the snapshot the function restores from (host path). */
  snapshotBlob?: string;
}

export interface SpecializationResult {
  /** The exact environment the waiting runtime must adopt (the driver's view of Specialization.env). */
  env: Record<string, string>;
  /** Files and symlinks placed. */
  files: number;
  /** How many of the files had to be copied instead of hard-linked. */
  copied: number;
  /** Launcher sandboxes: the command the launcher must exec (as the sandbox sees it). */
  argv?: string[];
}

export interface PooledSandbox extends Sandbox {
  /**
   * Makes this sandbox the function's, once: places its code and layers, and from now on
   * restartRuntime() starts the function's runtime directly (as a fresh spawn of it in this same
   * sandbox would). Telling the waiting runtime to load the function is the caller's part.
   */
  specialize(s: Specialization): Promise<SpecializationResult>;
}

export interface SandboxExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the kernel killed the runtime for exceeding the memory limit. */
  oomKilled: boolean;
}

export interface SandboxEvents {
  /** Bytes the runtime wrote to stdout or stderr. */
  onOutput(chunk: Buffer): void;
  /** The runtime process tree exited (not called for exits caused by restartRuntime()/destroy()). */
  onExit(exit: SandboxExit): void;
}

export interface SandboxStats {
  /** Peak memory of the sandbox since creation (or since the last restart), in MB. */
  maxMemoryUsedMB: number;
}

export interface Sandbox {
  readonly id: string;
  /** Host pid of the sandbox's outermost process (for PSS/RSS accounting). */
  readonly pid: number | undefined;
  stats(): Promise<SandboxStats>;
  /** Kill the runtime process tree and start it again in the same sandbox: /tmp survives, memory does not. */
  restartRuntime(): Promise<void>;
  /** Kill everything and release the sandbox's resources (cgroup, not the tmp dir, which the worker owns). */
  destroy(): Promise<void>;
}

export interface DriverCapabilities {
  snapshot: boolean;
  memoryLimit: boolean;
  isolation: "namespaces" | "kvm" | "none";
}

export interface SandboxDriver {
  readonly name: "process" | "none" | "microvm";
  capabilities(): DriverCapabilities;
  /** Start the runtime inside a new sandbox. Resolves once the process is spawned (not when init is done). */
  create(spec: SandboxSpec, events: SandboxEvents): Promise<Sandbox>;
  /**
   * Start a runtime with no function inside a new sandbox (spec.env is the boot environment); it
   * waits to be specialized. Absent on drivers that cannot pre-initialize.
   */
  createPooled?(spec: PooledSandboxSpec, events: SandboxEvents): Promise<PooledSandbox>;
}
