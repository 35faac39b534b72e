/**
 * CodeStore: the standalone mode's code packages on local disk, content-addressed by CodeSha256.
 *
 *   <root>/zips/<hex>.zip    the zip as uploaded (GetFunction's Code.Location serves it)
 *   <root>/unpacked/<hex>/   the extracted tree workers run: a cache, rebuilt from the zip
 *   <root>/meta/<hex>.json   size, unzipped size, file count, and the boot that unpacked it
 *   <root>/blobs/<hex>       other content-addressed files (SnapStart snapshot files): blob-area.ts
 *
 * `<hex>` is the hex form of the CodeSha256 (base64 has "/"). A package is stored if and only if
 * its meta file exists: `put` writes the tree, then the zip, then the meta, each atomically
 * (temporary name + rename). The zip and the meta are fsync'd with their directories. The tree is
 * not fsync'd file by file (one disk flush per file would make large packages slow to store);
 * instead the meta records the kernel boot id, and a tree unpacked during an earlier boot (which
 * a power loss could have left incomplete) is rebuilt from the zip by `ensureUnpacked`.
 *
 * Cluster mode: with a `mirror` (the object store `kiln-code`), `put` also uploads the zip under
 * its hex digest (after the local write; skipped when the mirror has it), and `get`,
 * `ensureUnpacked` and `ensureLocal` on a package this node does not have fetch the zip from the
 * mirror, check its digest and store it locally first, so any node can unpack any package.
 * Without a mirror (standalone) nothing changes.
 *
 * Concurrency: calls for the same package run one at a time within a process, so concurrent
 * puts of the same zip store one copy. Across processes sharing a root, concurrent puts are safe
 * too (each stages privately; the first rename wins; the rest find the same bytes in place), but
 * `remove` must not race a `put` of the same package from another process: the garbage collector
 * should run in one process.
 */
import { randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { notFound } from "../base/index.js";
import { codeSha256, codeSha256ToHex, hexToCodeSha256, isHexSha256 } from "./code-sha256.js";
import { exists, removeTree, renameUnlessTaken, syncDirectory, writeFileDurable } from "./durable-fs.js";
import { onDisk, storageFailure } from "./errors.js";
import { extractZip, type ExtractResult } from "./extract.js";
import { BlobArea, type StoredBlob } from "./blob-area.js";
import { KeyedLock } from "./keyed-lock.js";
import type { ExtractLimits } from "./limits.js";
import type { BlobStore } from "../store/index.js";

export interface StoredCode {
  /** CodeSha256: base64 SHA-256 of the zip. */
  sha256: string;
  /** Zip size in bytes (CodeSize). */
  size: number;
  unzippedBytes: number;
  /** Files and symlinks in the package. */
  files: number;
  /** The unpacked tree. */
  dir: string;
}

export interface CodeStoreOptions {
  /** Extraction limits; AWS's by default. */
  limits?: ExtractLimits;
  /** Identifies this boot of the machine; defaults to the kernel's boot id. */
  bootId?: string;
  /** Shared copy of every package (cluster mode); absent in standalone mode. */
  mirror?: BlobStore;
}

interface PackageRecord {
  codeSha256: string;
  size: number;
  unzippedBytes: number;
  files: number;
  unpackedBootId: string;
}

const BOOT_ID_PATH = "/proc/sys/kernel/random/boot_id";

/** The kernel's boot id, or "unknown" where there is none (then trees are never rebuilt). */
export async function readBootId(): Promise<string> {
  try {
    return (await readFile(BOOT_ID_PATH, "utf8")).trim();
  } catch {
    return "unknown";
  }
}

export class CodeStore {
  private readonly lock = new KeyedLock();
  /** Content-addressed files that are not packages (see blob-area.ts). */
  readonly blobs: BlobArea;

  private constructor(
    readonly root: string,
    private readonly limits: ExtractLimits,
    private readonly bootId: string,
    private readonly mirror: BlobStore | undefined,
  ) {
    this.blobs = new BlobArea(root, this.lock, mirror);
  }

  /** Opens (creating if needed) the store under `root`. */
  static async open(root: string, options: CodeStoreOptions = {}): Promise<CodeStore> {
    const absolute = resolve(root);
    for (const sub of ["zips", "unpacked", "meta", "blobs"]) await mkdir(join(absolute, sub), { recursive: true });
    return new CodeStore(absolute, options.limits ?? {}, options.bootId ?? (await readBootId()), options.mirror);
  }

  /** Where the zip of a package lives (whether or not it is stored). */
  zipPath(sha256: string): string {
    return this.zipAt(codeSha256ToHex(sha256));
  }

  /** Where the unpacked tree of a package lives (whether or not it is there). */
  dirFor(sha256: string): string {
    return this.dirAt(codeSha256ToHex(sha256));
  }

  /** Stores a file (moved in) or a stream in the blob area; returns its hex SHA-256. */
  putBlob(source: string | Readable): Promise<StoredBlob> {
    return this.blobs.put(source);
  }

  /** Where a blob lives (whether or not it is stored). */
  blobPath(hex: string): string {
    return this.blobs.path(hex);
  }

  /** A blob's path, fetched from the mirror when this node lacks it. */
  ensureBlob(hex: string): Promise<string> {
    return this.blobs.ensure(hex);
  }

  /** Removes a blob, whatever links to it. */
  removeBlob(hex: string): Promise<boolean> {
    return this.blobs.remove(hex);
  }

  /** Validates, unpacks and stores a zip. Storing the same zip again returns the stored copy. */
  put(zip: Buffer): Promise<StoredCode> {
    const sha256 = codeSha256(zip);
    const hex = codeSha256ToHex(sha256);
    return this.lock.run(hex, async () => {
      const existing = await this.readRecord(hex);
      const stored =
        existing !== undefined && (await this.isUnpacked(hex, existing)) && (await exists(this.zipAt(hex))) ? this.describe(hex, existing) : await this.storeLocally(zip, sha256, hex);
      if (this.mirror) await this.upload(sha256, hex, zip);
      return stored;
    });
  }

  /** The stored package (fetched from the mirror if this node lacks it), or undefined. */
  async get(sha256: string): Promise<StoredCode | undefined> {
    const hex = codeSha256ToHex(sha256);
    const record = await this.readRecord(hex);
    if (record !== undefined) return this.describe(hex, record);
    if (!this.mirror) return undefined;
    return this.lock.run(hex, async () => {
      const again = await this.readRecord(hex);
      if (again !== undefined) return this.describe(hex, again);
      return this.fetchFromMirror(sha256, hex);
    });
  }

  /**
   * Makes `zipPath(sha256)` hold the package's zip (fetching it from the mirror if needed);
   * false when neither this node nor the mirror has it.
   */
  ensureLocal(sha256: string): Promise<boolean> {
    const hex = codeSha256ToHex(sha256);
    return this.lock.run(hex, async () => {
      if ((await this.readRecord(hex)) !== undefined && (await exists(this.zipAt(hex)))) return true;
      return (await this.fetchFromMirror(sha256, hex)) !== undefined;
    });
  }

  /**
   * The unpacked tree of a stored package, rebuilding it from the zip if it is missing or was
   * unpacked during an earlier boot. ResourceNotFoundException if the package is not stored.
   */
  ensureUnpacked(sha256: string): Promise<string> {
    const hex = codeSha256ToHex(sha256);
    return this.lock.run(hex, async () => {
      const record = await this.readRecord(hex);
      if (record === undefined && (await this.fetchFromMirror(sha256, hex)) !== undefined) return this.dirAt(hex);
      if (record === undefined) throw notFound(`Code package ${sha256} is not stored`);
      if (await this.isUnpacked(hex, record)) return this.dirAt(hex);
      const zip = await onDisk("reading the stored zip", () => readFile(this.zipAt(hex)));
      if (codeSha256(zip) !== sha256) throw storageFailure(`the stored zip of ${sha256} does not match its digest`, undefined);
      await this.unpack(zip, hex);
      const fresh: PackageRecord = { ...record, unpackedBootId: this.bootId };
      await onDisk("saving the package record", () => writeFileDurable(this.recordAt(hex), JSON.stringify(fresh)));
      return this.dirAt(hex);
    });
  }

  /** Deletes a package (record first, so it stops being "stored" at once). Returns whether any of it existed. */
  remove(sha256: string): Promise<boolean> {
    const hex = codeSha256ToHex(sha256);
    return this.lock.run(hex, () =>
      onDisk("removing a package", async () => {
        const hadRecord = await unlinkDurable(this.recordAt(hex));
        const hadTree = await removeTree(this.dirAt(hex));
        const hadZip = await unlinkDurable(this.zipAt(hex));
        return hadRecord || hadTree || hadZip;
      }),
    );
  }

  /** The CodeSha256 of every stored package, for garbage collection. */
  async list(): Promise<string[]> {
    const names = await readdir(join(this.root, "meta"));
    return names
      .filter((n) => n.endsWith(".json") && isHexSha256(n.slice(0, -5)))
      .map((n) => hexToCodeSha256(n.slice(0, -5)))
      .sort();
  }

  /** Unpacks a verified zip, then writes the zip and the record (the package is stored from then on). */
  private async storeLocally(zip: Buffer, sha256: string, hex: string): Promise<StoredCode> {
    const unpacked = await this.unpack(zip, hex);
    await onDisk("saving the zip", async () => {
      if (!(await exists(this.zipAt(hex)))) await writeFileDurable(this.zipAt(hex), zip);
    });
    const record: PackageRecord = { codeSha256: sha256, size: zip.length, unzippedBytes: unpacked.unzippedBytes, files: unpacked.files, unpackedBootId: this.bootId };
    await onDisk("saving the package record", () => writeFileDurable(this.recordAt(hex), JSON.stringify(record)));
    return this.describe(hex, record);
  }

  private async upload(sha256: string, hex: string, zip: Buffer): Promise<void> {
    try {
      if (!(await this.mirror!.has(hex))) await this.mirror!.put(hex, zip);
    } catch (e) {
      throw storageFailure(`uploading code package ${sha256} to the shared store`, e);
    }
  }

  /** Stores the mirror's copy locally (caller holds the lock); undefined when the mirror lacks it. */
  private async fetchFromMirror(sha256: string, hex: string): Promise<StoredCode | undefined> {
    if (!this.mirror) return undefined;
    let zip: Buffer | undefined;
    try {
      zip = await this.mirror.get(hex);
    } catch (e) {
      throw storageFailure(`fetching code package ${sha256} from the shared store`, e);
    }
    if (zip === undefined) return undefined;
    if (codeSha256(zip) !== sha256) throw storageFailure(`the shared copy of ${sha256} does not match its digest`, undefined);
    return this.storeLocally(zip, sha256, hex);
  }

  private zipAt(hex: string): string {
    return join(this.root, "zips", `${hex}.zip`);
  }

  private dirAt(hex: string): string {
    return join(this.root, "unpacked", hex);
  }

  private recordAt(hex: string): string {
    return join(this.root, "meta", `${hex}.json`);
  }

  private describe(hex: string, r: PackageRecord): StoredCode {
    return { sha256: r.codeSha256, size: r.size, unzippedBytes: r.unzippedBytes, files: r.files, dir: this.dirAt(hex) };
  }

  private async isUnpacked(hex: string, record: PackageRecord): Promise<boolean> {
    return record.unpackedBootId === this.bootId && (await exists(this.dirAt(hex)));
  }

  /** Extracts into a private staging name, then swaps it in for whatever tree was there. */
  private async unpack(zip: Buffer, hex: string): Promise<ExtractResult> {
    const staging = join(this.root, "unpacked", `.${hex}.staging-${randomBytes(6).toString("hex")}`);
    const result = await extractZip(zip, staging, this.limits);
    await onDisk("moving the unpacked code into place", async () => {
      await removeTree(this.dirAt(hex)); // stale: from an earlier boot, or a crash before its record was written
      await renameUnlessTaken(staging, this.dirAt(hex)); // if taken, another process just stored the same bytes
    });
    return result;
  }

  private async readRecord(hex: string): Promise<PackageRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.recordAt(hex), "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw storageFailure("reading a package record", e);
    }
    try {
      const r = JSON.parse(text) as Partial<PackageRecord>;
      const valid =
        r.codeSha256 === hexToCodeSha256(hex) &&
        typeof r.size === "number" &&
        typeof r.unzippedBytes === "number" &&
        typeof r.files === "number" &&
        typeof r.unpackedBootId === "string";
      return valid ? (r as PackageRecord) : undefined; // unreadable records count as absent; put rewrites them
    } catch {
      return undefined;
    }
  }
}

async function unlinkDurable(path: string): Promise<boolean> {
  const had = await exists(path);
  await rm(path, { force: true });
  if (had) await syncDirectory(dirname(path));
  return had;
}
