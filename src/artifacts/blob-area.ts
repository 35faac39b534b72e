/**
 * BlobArea: the code store's content-addressed files that are not code packages (SnapStart
 * snapshot files: V8 blobs, micro-VM memory, device state and /tmp images), so that whatever later
 * chunks, caches or shares stored bytes applies to them too.
 *
 *   <root>/blobs/<hex>    a file whose SHA-256 is <hex>; never written after it is stored
 *
 * Files are hashed by streaming (a memory file is hundreds of MB: never one Buffer) and moved in
 * by hard link, so storing a file costs one read, one fsync and no copy (a file on another file
 * system is copied in by streaming).
 *
 * References are hard links. A user of a blob "materializes" it with `link(hex, dest)` (a hard
 * link at a path of its own, e.g. a snapshot's directory), and gives it back with
 * `release(hex, dest)`, which unlinks `dest` and removes the blob once no other link is left
 * (st_nlink == 1: only the store's name). The reference count is thus the file system's own and
 * survives crashes; `unreferenced()` lists blobs nobody links to, for a garbage collector.
 * Linked files share the store's inode: users must only read them (a V8 blob is bound read-only;
 * a VM memory file is mapped private, share=off).
 *
 * Cluster mode: with a mirror, `put` also uploads blobs of at most MAX_MIRRORED_BLOB_BYTES, and
 * `ensure` fetches a missing blob from it (checking its digest). Larger blobs stay on the node that
 * made them: the mirror's contract moves whole Buffers, so sharing memory files waits for the
 * chunked store.
 *
 * Concurrency: operations on one digest run one at a time within a process (the store's KeyedLock).
 * Across processes, `put` is safe (the first link wins; the bytes are the same), `release` racing a
 * `link` of the same blob from another process is not: one process should own a root's snapshots.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { link, open, readdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { notFound } from "../base/index.js";
import { isHexSha256 } from "./code-sha256.js";
import { exists, syncDirectory, writeFileDurable } from "./durable-fs.js";
import { onDisk, storageFailure } from "./errors.js";
import type { KeyedLock } from "./keyed-lock.js";
import type { BlobStore } from "../store/index.js";

/** Blobs up to this size are uploaded to the cluster's mirror; larger ones stay local (see header). */
export const MAX_MIRRORED_BLOB_BYTES = 64 * 1024 * 1024;

export interface StoredBlob {
  /** Hex SHA-256 of the bytes. */
  sha256: string;
  size: number;
  path: string;
}

export class BlobArea {
  readonly dir: string;

  constructor(
    root: string,
    private readonly lock: KeyedLock,
    private readonly mirror: BlobStore | undefined,
  ) {
    this.dir = join(root, "blobs");
  }

  /** Where a blob lives (whether or not it is stored). */
  path(hex: string): string {
    if (!isHexSha256(hex)) throw new TypeError(`not a hex SHA-256: ${hex}`);
    return join(this.dir, hex);
  }

  /**
   * Stores a blob. A path is moved in (linked under its digest, then unlinked from where it was;
   * it must be on the store's file system and must not be written afterwards); a stream is copied.
   */
  async put(source: string | Readable): Promise<StoredBlob> {
    const staged = typeof source === "string" ? await this.onOurDevice(source) : await this.stage(source);
    const { sha256, size } = await onDisk("hashing a blob", () => hashFile(staged, true));
    return this.lock.run(lockKey(sha256), async () => {
      const path = this.path(sha256);
      await onDisk("storing a blob", async () => {
        try {
          await link(staged, path);
          await syncDirectory(this.dir);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e; // already stored: same bytes
        }
        await rm(staged, { force: true });
      });
      if (this.mirror && size <= MAX_MIRRORED_BLOB_BYTES) await this.upload(sha256, path);
      return { sha256, size, path };
    });
  }

  /** The blob's path, fetching it from the mirror when this node lacks it. ResourceNotFoundException when nobody has it. */
  ensure(hex: string): Promise<string> {
    const path = this.path(hex);
    return this.lock.run(lockKey(hex), async () => {
      if (await exists(path)) return path;
      if (await this.fetch(hex)) return path;
      throw notFound(`Blob ${hex} is not stored`);
    });
  }

  /** Materializes a blob at `dest` (a hard link; replaces what was there), fetching it if needed. */
  async link(hex: string, dest: string): Promise<string> {
    const path = await this.ensure(hex);
    return this.lock.run(lockKey(hex), () =>
      onDisk("linking a blob", async () => {
        const temp = join(dirname(dest), `.link-${randomBytes(6).toString("hex")}`);
        await link(path, temp);
        await rename(temp, dest);
        return dest;
      }),
    );
  }

  /** Unlinks `dest` (a link made by `link`, or the path `put` moved from) and removes the blob if nothing else links to it. */
  release(hex: string, dest?: string): Promise<boolean> {
    const path = this.path(hex);
    return this.lock.run(lockKey(hex), () =>
      onDisk("releasing a blob", async () => {
        if (dest !== undefined) await rm(dest, { force: true });
        const s = await stat(path).catch(() => undefined);
        if (s === undefined || s.nlink > 1) return false;
        await rm(path, { force: true });
        await syncDirectory(this.dir);
        return true;
      }),
    );
  }

  /** Removes a blob whatever links to it (the links keep their bytes). Returns whether it was stored. */
  remove(hex: string): Promise<boolean> {
    const path = this.path(hex);
    return this.lock.run(lockKey(hex), () =>
      onDisk("removing a blob", async () => {
        const had = await exists(path);
        await rm(path, { force: true });
        if (had) await syncDirectory(this.dir);
        return had;
      }),
    );
  }

  /** Stored blobs with no link outside the store, for garbage collection. */
  async unreferenced(): Promise<string[]> {
    const out: string[] = [];
    for (const name of (await readdir(this.dir)).sort()) {
      if (!isHexSha256(name)) continue;
      const s = await stat(join(this.dir, name)).catch(() => undefined);
      if (s && s.nlink === 1) out.push(name);
    }
    return out;
  }

  /** `path` itself when a hard link can move it in; else a copy staged here (and `path` removed). */
  private async onOurDevice(path: string): Promise<string> {
    const [file, area] = await Promise.all([stat(path), stat(this.dir)]);
    if (file.dev === area.dev) return path;
    const staged = await this.stage(createReadStream(path));
    await rm(path, { force: true });
    return staged;
  }

  /** Copies a stream to a private name in the blob area (same file system as the blobs). */
  private async stage(source: Readable): Promise<string> {
    const temp = join(this.dir, `.stage-${randomBytes(6).toString("hex")}`);
    try {
      await pipeline(source, createWriteStream(temp, { flags: "wx", mode: 0o644 }));
    } catch (e) {
      await rm(temp, { force: true });
      throw storageFailure("receiving a blob", e);
    }
    return temp;
  }

  private async upload(hex: string, path: string): Promise<void> {
    try {
      if (!(await this.mirror!.has(hex))) await this.mirror!.put(hex, await readWhole(path));
    } catch (e) {
      throw storageFailure(`uploading blob ${hex} to the shared store`, e);
    }
  }

  /** Stores the mirror's copy locally (caller holds the lock); false when the mirror lacks it. */
  private async fetch(hex: string): Promise<boolean> {
    if (!this.mirror) return false;
    let data: Buffer | undefined;
    try {
      data = await this.mirror.get(hex);
    } catch (e) {
      throw storageFailure(`fetching blob ${hex} from the shared store`, e);
    }
    if (data === undefined) return false;
    if (createHash("sha256").update(data).digest("hex") !== hex) throw storageFailure(`the shared copy of blob ${hex} does not match its digest`, undefined);
    await onDisk("saving a fetched blob", () => writeFileDurable(this.path(hex), data));
    return true;
  }
}

/** Blob digests share the store's lock with packages; a prefix keeps the keys apart. */
const lockKey = (hex: string): string => `blob:${hex}`;

/** SHA-256 and size of a file, read as a stream; with `sync`, also flushes it to disk. */
export async function hashFile(path: string, sync = false): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  if (sync) {
    const handle = await open(path, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
  return { sha256: hash.digest("hex"), size };
}

async function readWhole(path: string): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
