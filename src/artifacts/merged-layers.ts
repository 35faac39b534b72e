/**
 * MergedLayers: one read-only tree per distinct list of layers, built under a root directory from
 * the layers' unpacked packages with hard links (cp -al: never a copy when a link will do), so a
 * sandbox binds a single directory at /opt and sees the layers merged as Lambda merges them (see
 * layer-merge.ts). A single layer needs no merge: its own unpacked tree is used.
 *
 *   <root>/<sha256 of the layer directories, in order>/   the merged tree (dirs 0755; files are links)
 *
 * Trees are built under a private staging name and renamed into place, so a tree either exists
 * complete or not at all. They are caches: not fsync'd, to be wiped when the server starts (the
 * standalone mode does), and rebuilt on demand.
 *
 * Known caveats: files are shared with the code store by hard link, so their modes are the code
 * store's (0644/0755); a tree lives until the root is wiped, even when no function uses it.
 */
import { createHash, randomBytes } from "node:crypto";
import { chmod, copyFile, link, mkdir, readdir, readlink, rename, rm, stat, symlink } from "node:fs/promises";
import { join } from "node:path";
import { KeyedLock } from "./keyed-lock.js";
import { planLayerMerge, type LayerEntry } from "./layer-merge.js";
import { exists } from "./durable-fs.js";

/** Every entry under `dir`, parents first, as layer-merge.ts wants them. */
export async function walkLayer(dir: string): Promise<LayerEntry[]> {
  const out: LayerEntry[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(rel === "" ? dir : join(dir, rel), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const path = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        out.push({ path, kind: "dir" });
        await walk(path);
      } else if (e.isSymbolicLink()) out.push({ path, kind: "symlink" });
      else if (e.isFile()) out.push({ path, kind: "file" });
    }
  };
  await walk("");
  return out;
}

export class MergedLayers {
  private readonly lock = new KeyedLock();

  constructor(readonly root: string) {}

  /** The directory to mount at /opt for these layer trees (in order, later ones win). */
  async merge(layerDirs: string[]): Promise<string> {
    if (layerDirs.length === 1) return layerDirs[0]!;
    const key = createHash("sha256").update(layerDirs.join("\n")).digest("hex");
    const target = join(this.root, key);
    return this.lock.run(key, async () => {
      if (await exists(target)) return target;
      await mkdir(this.root, { recursive: true, mode: 0o711 });
      const staging = join(this.root, `.${key}.staging-${randomBytes(6).toString("hex")}`);
      try {
        await this.build(layerDirs, staging);
        await rename(staging, target).catch(async (e: NodeJS.ErrnoException) => {
          if (e.code !== "ENOTEMPTY" && e.code !== "EEXIST") throw e;
          await rm(staging, { recursive: true, force: true }); // another process built the same tree
        });
      } catch (e) {
        await rm(staging, { recursive: true, force: true });
        throw e;
      }
      return target;
    });
  }

  private async build(layerDirs: string[], staging: string): Promise<void> {
    const plan = planLayerMerge(await Promise.all(layerDirs.map(walkLayer)));
    await mkdir(staging, { mode: 0o755 });
    await chmod(staging, 0o755);
    for (const e of plan) {
      const from = join(layerDirs[e.layer]!, e.path);
      const to = join(staging, e.path);
      if (e.kind === "dir") {
        await mkdir(to, { mode: 0o755 });
        await chmod(to, 0o755);
      } else if (e.kind === "symlink") await symlink(await readlink(from), to);
      else {
        await link(from, to).catch(async (err: NodeJS.ErrnoException) => {
          if (err.code !== "EXDEV" && err.code !== "EPERM" && err.code !== "EMLINK") throw err;
          await copyFile(from, to);
          await chmod(to, (await stat(from)).mode & 0o777);
        });
      }
    }
  }
}
