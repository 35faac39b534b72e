/**
 * The host side of a node that runs sandboxes or builds their trees: the data dir (traversable by
 * the sandbox uid, nothing more), the runtimes copied into it, fresh sandbox and merged-layer
 * dirs, and the isolation probe. Shared by `kiln server` and cluster nodes.
 */
import { chmod, cp, mkdir, rm, stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { ConfigError, type ServerConfig } from "../base/index.js";
import { MergedLayers } from "../artifacts/index.js";
import { DEFAULT_SANDBOX_UID, probeBubblewrap } from "../sandbox/index.js";

/** The host uid sandboxes run as (the process driver's default: Lambda's sbx_user1051 is uid 993). */
export const SANDBOX_UID = DEFAULT_SANDBOX_UID;

/**
 * Sandboxes run as an unprivileged uid, and bubblewrap resolves the paths it binds (code, /tmp)
 * as that uid: every ancestor of the data dir must be searchable by it.
 */
async function checkReachable(dataDir: string, uid: number): Promise<void> {
  for (let dir = dirname(dataDir); ; dir = dirname(dir)) {
    const info = await stat(dir);
    const searchable = info.uid === uid ? (info.mode & 0o100) !== 0 : (info.mode & 0o001) !== 0;
    if (!searchable) {
      throw new ConfigError(
        `Sandboxes (uid ${uid}) cannot reach the data dir ${dataDir}: ${dir} is not searchable by other users (mode ${(info.mode & 0o777).toString(8)}). ` +
          `Choose a data dir elsewhere with KILN_DATA_DIR or --data-dir, or allow traversal with \`chmod o+x ${dir}\`.`,
      );
    }
    if (dir === dirname(dir)) return;
  }
}

/** Where the in-sandbox runtimes live: src/runtimes of this checkout (plain JS and Python, not compiled). */
export const RUNTIMES_DIR = fileURLToPath(new URL("../../../src/runtimes", import.meta.url));

export interface HostDirs {
  runtimesDir: string;
  sandboxesDir: string;
  mergedLayers: MergedLayers;
}

/** Checks isolation, prepares the data dir and the directories sandboxes are built from. */
export async function prepareHost(config: Pick<ServerConfig, "isolation" | "dataDir">, opts: { announce: boolean; out: (line: string) => void }): Promise<HostDirs> {
  if (config.isolation === "process") {
    const probe = await probeBubblewrap();
    if (!probe.ok) {
      throw new ConfigError(
        `bubblewrap cannot jail sandboxes here (${probe.reason ?? "bwrap missing"}). Install it with \`sudo apt-get install -y bubblewrap socat\`, ` +
          "or start with `--isolation none` to run functions WITHOUT any isolation (trusted code only).",
      );
    }
  } else if (config.isolation === "none" && opts.announce) {
    opts.out("WARNING: --isolation none: functions run as plain processes with the server's rights. Only run code you trust.");
  }
  await mkdir(config.dataDir, { recursive: true, mode: 0o711 });
  if (config.isolation === "process") await checkReachable(config.dataDir, SANDBOX_UID);
  // Sandboxes run as an unprivileged uid: it may traverse the data dir (never list or read it) to
  // reach what is bound into a jail. Secrets in here are 0600.
  await chmod(config.dataDir, 0o711);
  const runtimesDir = join(config.dataDir, "runtimes");
  await rm(runtimesDir, { recursive: true, force: true });
  await cp(RUNTIMES_DIR, runtimesDir, { recursive: true, filter: (src) => !src.endsWith(".json") && !src.includes("__pycache__") });
  const sandboxesDir = join(config.dataDir, "sandboxes");
  await rm(sandboxesDir, { recursive: true, force: true });
  await mkdir(sandboxesDir, { recursive: true, mode: 0o711 });
  // Merged layer trees are caches of hard links (see artifacts/merged-layers.ts): rebuilt on demand.
  const mergedLayersDir = join(config.dataDir, "layers-merged");
  await rm(mergedLayersDir, { recursive: true, force: true });
  await mkdir(mergedLayersDir, { recursive: true, mode: 0o711 });
  return { runtimesDir, sandboxesDir, mergedLayers: new MergedLayers(mergedLayersDir) };
}
