/**
 * Reads the facts the jail needs about the host: which top-level paths are merged-/usr symlinks,
 * which /etc entries exist, and what each layer holds at its top level. Thin I/O for jail.ts.
 */
import { lstat, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import type { HostEntry, HostView, LayerView } from "./jail.js";
import { DEFAULT_ETC_ENTRIES, ROOT_USR_LINKS } from "./options.js";

async function hostEntry(path: string): Promise<HostEntry | undefined> {
  try {
    const st = await lstat(path);
    if (st.isSymbolicLink()) return { path, symlinkTo: await readlink(path) };
    return st.isDirectory() || st.isFile() ? { path } : undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

async function present(paths: readonly string[]): Promise<HostEntry[]> {
  const entries = await Promise.all(paths.map(hostEntry));
  return entries.filter((e): e is HostEntry => e !== undefined);
}

export async function readHostView(): Promise<HostView> {
  const [rootEntries, etcEntries] = await Promise.all([present(ROOT_USR_LINKS), present(DEFAULT_ETC_ENTRIES.map((e) => join("/etc", e)))]);
  return { rootEntries, etcEntries };
}

export async function readLayers(layerDirs: string[]): Promise<LayerView[]> {
  return Promise.all(layerDirs.map(async (dir) => ({ dir, entries: (await readdir(dir)).sort() })));
}
