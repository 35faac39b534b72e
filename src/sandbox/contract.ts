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
}
