/**
 * Placing a function into a pre-initialized sandbox: its code into the sandbox's own task
 * directory (bound at /var/task) and its layers into its own opt directory (bound at /opt). The
 * jail sees files added to a bound directory after it started, so this is all specialization has
 * to do on disk.
 *
 * Files are hard links to the worker's unpacked-code cache (`<data dir>/code/unpacked` lives on the
 * same file system as `<data dir>/sandboxes`): ~0.2 ms for a small function, the same inodes (one
 * page cache) for every sandbox of a function. Where a link is impossible (EXDEV: another file
 * system; EPERM/EMLINK) the file is copied. Directories are created with their source's mode,
 * symlinks are recreated with the same target (the code store only keeps targets inside the package).
 *
 * The linked inodes stay read-only for the function: they are root-owned 0644/0755 (the code
 * store sets modes), every path the sandbox has to them is a read-only bind, and link(2) refuses
 * to link across mounts, so the function cannot make a writable name for them under /tmp.
 */
import { chmod, copyFile, link, lstat, mkdir, readdir, readlink, symlink } from "node:fs/promises";
import { join } from "node:path";
import { mergeLayers, type LayerView } from "./jail.js";

export interface Placed {
  /** Files and symlinks placed. */
  files: number;
  /** Files copied because a hard link was impossible. */
  copied: number;
}

const LINK_IMPOSSIBLE = new Set(["EXDEV", "EPERM", "EMLINK"]);

async function placeFile(src: string, dst: string, placed: Placed): Promise<void> {
  try {
    await link(src, dst);
  } catch (e) {
    if (!LINK_IMPOSSIBLE.has((e as NodeJS.ErrnoException).code ?? "")) throw e;
    await copyFile(src, dst);
    await chmod(dst, (await lstat(src)).mode & 0o7777);
    placed.copied++;
  }
  placed.files++;
}

/** Places the entry `src` (file, directory or symlink) at `dst`, which must not exist. */
async function placeEntry(src: string, dst: string, placed: Placed): Promise<void> {
  const st = await lstat(src);
  if (st.isSymbolicLink()) {
    await symlink(await readlink(src), dst);
    placed.files++;
  } else if (st.isDirectory()) {
    await mkdir(dst);
    await chmod(dst, st.mode & 0o7777);
    await placeChildren(src, dst, placed);
  } else if (st.isFile()) {
    await placeFile(src, dst, placed);
  }
  // Anything else (fifo, socket, device) is not code: the code store never creates one.
}

async function placeChildren(srcDir: string, dstDir: string, placed: Placed): Promise<void> {
  const names = await readdir(srcDir);
  await Promise.all(names.map((name) => placeEntry(join(srcDir, name), join(dstDir, name), placed)));
}

/** Places one file (a snapshot blob) at `dst`. */
export async function placeOne(src: string, dst: string): Promise<Placed> {
  const placed: Placed = { files: 0, copied: 0 };
  await placeFile(src, dst, placed);
  return placed;
}

/** Places the contents of `srcDir` into the existing, empty directory `dstDir`. */
export async function placeTree(srcDir: string, dstDir: string): Promise<Placed> {
  const placed: Placed = { files: 0, copied: 0 };
  await placeChildren(srcDir, dstDir, placed);
  return placed;
}

/** Places layers into the existing, empty `optDir`, merged as a fresh jail merges them (later layers win per top-level entry). */
export async function placeLayers(layers: LayerView[], optDir: string): Promise<Placed> {
  const placed: Placed = { files: 0, copied: 0 };
  await Promise.all(mergeLayers(layers).map(([name, hostPath]) => placeEntry(hostPath, join(optDir, name), placed)));
  return placed;
}
