/**
 * Read-only ext4 images of host directories (a function's code, its merged layers, the runtimes
 * dir), cached by content: the key hashes every entry's path, mode, size, mtime and symlink target,
 * so the same tree maps to the same image file and a changed tree to a new one.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { lstat, mkdir, readdir, readlink, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { mkfsFromDir } from "./build.js";

export interface DirImageOptions {
  cacheDir: string;
}

async function treeKey(dir: string): Promise<string> {
  const h = createHash("sha256");
  const walk = async (d: string, rel: string): Promise<void> => {
    const entries = (await readdir(d, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = join(d, e.name);
      const s = await lstat(p);
      h.update(`${rel}/${e.name}\0${s.mode}\0${s.size}\0${Math.floor(s.mtimeMs)}\0`);
      if (e.isSymbolicLink()) h.update(await readlink(p));
      else if (e.isDirectory()) await walk(p, `${rel}/${e.name}`);
      h.update("\n");
    }
  };
  await walk(dir, "");
  return h.digest("hex").slice(0, 32);
}

/** The path of an ext4 image of `dir` (built on first use, then reused). */
export async function dirImage(dir: string, o: DirImageOptions): Promise<string> {
  const key = await treeKey(dir);
  const out = join(o.cacheDir, `${key}.ext4`);
  if (existsSync(out)) return out;
  await mkdir(o.cacheDir, { recursive: true });
  const scratch = `${out}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  try {
    await mkfsFromDir(dir, scratch, { uuid: "6b696c6e-6469-4572-8000-000000000002", slackMB: 2 });
    await rename(scratch, out);
  } finally {
    await rm(scratch, { force: true });
  }
  return out;
}
