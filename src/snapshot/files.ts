/**
 * Where snapshot files are kept: in the code store's blob area (content-addressed, so the later
 * chunking and caching of stored bytes applies to them), materialized as hard links in the
 * snapshot's own directory. A restore reads or maps the link, which is the store's file itself (no
 * copy): V8 blobs are bound read-only, VM memory files are mapped private (share=off), so nothing
 * writes through a link.
 *
 * Each snapshot records `{ name: sha256 }` for its files (the V8 service in `<id>.json`, the VM
 * service in its manifest). Removing a snapshot releases its links; the store drops a file once
 * nothing links to it, so two snapshots with identical files share one copy and deleting a
 * version or function still frees its bytes.
 */
import { join } from "node:path";

/** What the snapshot services need from the code store (wired to CodeStore's blob area at the edge). */
export interface SnapshotFileStore {
  /** Moves a finished file into the store; returns its hex SHA-256. */
  put(path: string): Promise<{ sha256: string; size: number }>;
  /** Materializes a stored file at `dest` as a hard link (fetching it first if this node lacks it). */
  link(sha256: string, dest: string): Promise<string>;
  /** Unlinks `dest` and drops the stored file once nothing else links to it. */
  release(sha256: string, dest: string): Promise<unknown>;
}

/** `{ name: sha256 }`: the snapshot files, each linked at `<dir>/<name>`. */
export type SnapshotFiles = Record<string, string>;

/** Moves `sources` (name -> path) into the store and links each at `<dir>/<name>`. */
export async function storeSnapshotFiles(store: SnapshotFileStore, sources: Record<string, string>, dir: string): Promise<SnapshotFiles> {
  const files: SnapshotFiles = {};
  for (const [name, path] of Object.entries(sources)) {
    const { sha256 } = await store.put(path);
    await store.link(sha256, join(dir, name));
    files[name] = sha256;
  }
  return files;
}

export async function releaseSnapshotFiles(store: SnapshotFileStore, files: SnapshotFiles, dir: string): Promise<void> {
  for (const [name, sha256] of Object.entries(files)) await store.release(sha256, join(dir, name));
}

/** Whether parsed JSON is a SnapshotFiles record (names without slashes, hex digests). */
export function isSnapshotFiles(v: unknown): v is SnapshotFiles {
  return typeof v === "object" && v !== null && Object.entries(v).every(([k, s]) => !k.includes("/") && typeof s === "string" && /^[0-9a-f]{64}$/.test(s));
}
