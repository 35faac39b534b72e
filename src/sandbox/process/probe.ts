/**
 * probeBubblewrap(): can this host run isolation "process"? Checks the binaries and then starts a
 * trivial jail with the same namespace flags, as the sandbox uid, which catches kernels that forbid
 * unprivileged user namespaces. Takes ~10 ms; meant for server start-up.
 */
import { execFile } from "node:child_process";
import { access, constants } from "node:fs/promises";
import { promisify } from "node:util";
import { DEFAULT_BWRAP_PATH, DEFAULT_SANDBOX_GID, DEFAULT_SANDBOX_UID, DEFAULT_SETPRIV_PATH, DEFAULT_SOCAT_PATH } from "./options.js";

const run = promisify(execFile);

export interface BubblewrapProbe {
  ok: boolean;
  version?: string;
  reason?: string;
}

export interface ProbeOptions {
  bwrapPath?: string;
  setprivPath?: string;
  socatPath?: string;
  uid?: number;
  gid?: number;
}

export async function probeBubblewrap(opts: ProbeOptions = {}): Promise<BubblewrapProbe> {
  const bwrap = opts.bwrapPath ?? DEFAULT_BWRAP_PATH;
  let version: string;
  try {
    version = (await run(bwrap, ["--version"], { env: {} })).stdout.trim().replace(/^bubblewrap\s+/, "");
  } catch (e) {
    return { ok: false, reason: `${bwrap} does not run: ${(e as Error).message}` };
  }
  const isRoot = process.getuid?.() === 0;
  const setpriv = opts.setprivPath ?? DEFAULT_SETPRIV_PATH;
  const socat = opts.socatPath ?? DEFAULT_SOCAT_PATH;
  for (const [path, why] of [[socat, "bridges the Runtime API into the sandbox"], ...(isRoot ? [[setpriv, "drops to the sandbox uid"]] : [])] as const) {
    try {
      await access(path, constants.X_OK);
    } catch {
      return { ok: false, version, reason: `${path} (which ${why}) is missing` };
    }
  }
  const jail = [bwrap, "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64", "--proc", "/proc", "--dev", "/dev", "/usr/bin/true"];
  const argv = isRoot ? [setpriv, `--reuid=${opts.uid ?? DEFAULT_SANDBOX_UID}`, `--regid=${opts.gid ?? DEFAULT_SANDBOX_GID}`, "--clear-groups", "--no-new-privs", "--", ...jail] : jail;
  try {
    await run(argv[0]!, argv.slice(1), { env: {}, timeout: 5_000 });
  } catch (e) {
    const stderr = (e as { stderr?: string }).stderr?.trim();
    return { ok: false, version, reason: `a trial jail failed: ${stderr || (e as Error).message}` };
  }
  return { ok: true, version };
}
