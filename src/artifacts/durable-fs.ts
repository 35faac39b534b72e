/**
 * Crash-safe file operations for the code store: a file is written to a temporary name beside its
 * target, fsync'd, renamed into place and its directory fsync'd, so after a crash the name holds
 * either the old content or the complete new content. Trees are removed by first renaming them
 * to a hidden name, so a reader never sees a half-deleted tree under the real name.
 */
import { randomBytes } from "node:crypto";
import { open, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

const tempName = (path: string, tag: string): string => join(dirname(path), `.${basename(path)}.${tag}-${randomBytes(6).toString("hex")}`);

export async function writeFileDurable(path: string, data: Buffer | string): Promise<void> {
  const temp = tempName(path, "tmp");
  try {
    const file = await open(temp, "wx", 0o644);
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
  await syncDirectory(dirname(path));
}

/** Makes renames and unlinks in `dir` durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Removes a tree if present; returns whether it was. The name disappears atomically. */
export async function removeTree(path: string): Promise<boolean> {
  const trash = tempName(path, "trash");
  try {
    await rename(path, trash);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw e;
  }
  await rm(trash, { recursive: true, force: true });
  return true;
}

/** Renames a finished staging tree to `path`; false if another writer already put one there. */
export async function renameUnlessTaken(staging: string, path: string): Promise<boolean> {
  try {
    await rename(staging, path);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOTEMPTY" || code === "EEXIST") {
      await rm(staging, { recursive: true, force: true });
      return false;
    }
    throw e;
  }
}

/** Whether something exists at `path` (any error but "not found" is thrown). */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw e;
  }
}
