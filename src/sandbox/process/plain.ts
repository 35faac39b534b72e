/**
 * Isolation "none": the runtime as a plain child process of Kiln, in its own process group, with
 * the same environment a jail would get except for the paths only a jail can provide. No memory
 * limit, no isolation: for hosts without bubblewrap, and the server warns when it runs like this.
 * Known caveat: a process that double-forks out of the runtime's tree and process group survives
 * restartRuntime()/destroy() (nothing but a pid namespace or cgroup could find it).
 */
import type { SandboxExit, SandboxSpec } from "../contract.js";
import { SandboxError } from "../errors.js";
import { KILL_TIMEOUT_MS } from "./options.js";
import { treePeakBytes, treePids } from "./procfs.js";
import { SANDBOX_PATHS } from "./runtime-command.js";
import { signal, spawnTree } from "./spawn.js";
import { within, type RuntimeTree, type TreeFactory } from "./tree.js";

/**
 * A child that double-forked out of the tree may hold the runtime's stdout open forever: the exit
 * is reported this long after the runtime exited even then. (A jail needs no such grace: when
 * bwrap exits, its pid namespace and everything holding the pipes go with it.)
 */
export const CLOSE_GRACE_MS = 500;

/**
 * spec.env, except: AWS_LAMBDA_RUNTIME_API points at the host-side bridge; LAMBDA_TASK_ROOT and
 * LAMBDA_RUNTIME_DIR, when they name the sandbox paths, name the host directories instead; TMPDIR
 * (unless set) is the sandbox's tmp dir, since /tmp is the host's.
 */
export function plainEnv(spec: SandboxSpec, runtimeApi: string, runtimesDir: string | undefined): Record<string, string> {
  const env: Record<string, string> = { ...spec.env, AWS_LAMBDA_RUNTIME_API: runtimeApi };
  if (env.LAMBDA_TASK_ROOT === SANDBOX_PATHS.taskDir) env.LAMBDA_TASK_ROOT = spec.codeDir;
  if (env.LAMBDA_RUNTIME_DIR === SANDBOX_PATHS.runtimeDir && runtimesDir !== undefined) env.LAMBDA_RUNTIME_DIR = runtimesDir;
  env.TMPDIR ??= spec.tmpDir;
  return env;
}

/** The variables plainEnv may add or rewrite. */
export const PLAIN_ENV_REWRITES = ["AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "TMPDIR"] as const;

export function plainTreeFactory(spec: SandboxSpec, command: string[], env: Record<string, string>): TreeFactory {
  return async (onOutput) => {
    let spawned;
    try {
      spawned = await spawnTree({ argv: command, env, cwd: spec.codeDir, onOutput, closeGraceMs: CLOSE_GRACE_MS });
    } catch (e) {
      throw new SandboxError("spawn-failed", spec.id, `cannot start ${command[0]}: ${(e as Error).message}`, e);
    }
    const { pid } = spawned;
    let done = false;
    // Children that outlive the runtime would hold its stdout open: take the process group down with it.
    spawned.child.once("exit", () => signal(-pid, "SIGKILL"));
    const exited: Promise<SandboxExit> = spawned.closed.then((raw) => {
      done = true;
      return { ...raw, oomKilled: false };
    });
    return {
      pid,
      exited,
      async kill() {
        if (!done) {
          // The process group, and descendants that left it with setsid() (found while their parent lives).
          const pids = await treePids(pid);
          signal(-pid, "SIGKILL");
          for (const p of pids) signal(p, "SIGKILL");
        }
        await within(exited, KILL_TIMEOUT_MS, () => new SandboxError("kill-timeout", spec.id, `the runtime did not exit ${KILL_TIMEOUT_MS} ms after SIGKILL`));
      },
      peakBytes: () => (done ? Promise.resolve(0) : treePeakBytes(pid)),
      release: () => Promise.resolve(),
    };
  };
}
