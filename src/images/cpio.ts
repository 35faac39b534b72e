/**
 * A newc ("070701") cpio archive writer, the format the Linux kernel unpacks as an initramfs.
 * Pure: entries in, bytes out. Reproducible by construction: the caller's order is kept, every
 * mtime is the given constant, inode numbers count up from 1, owners are root.
 *
 * Layout per entry: a 110-byte ASCII header (magic + 13 eight-digit hex fields), the NUL-terminated
 * name padded to 4 bytes, the data padded to 4 bytes; the archive ends with "TRAILER!!!".
 */
export type CpioEntry =
  | { kind: "dir"; path: string; mode?: number }
  | { kind: "file"; path: string; data: Buffer; mode?: number }
  | { kind: "symlink"; path: string; target: string };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

const pad4 = (n: number): number => (4 - (n % 4)) % 4;
const hex8 = (n: number): string => n.toString(16).padStart(8, "0");

function record(ino: number, mode: number, nlink: number, mtime: number, name: string, data: Buffer): Buffer {
  const nameBytes = Buffer.from(name + "\0");
  const fields = [ino, mode, 0, 0, nlink, mtime, data.length, 0, 0, 0, 0, nameBytes.length, 0];
  const header = Buffer.from("070701" + fields.map(hex8).join(""), "ascii");
  return Buffer.concat([header, nameBytes, Buffer.alloc(pad4(header.length + nameBytes.length)), data, Buffer.alloc(pad4(data.length))]);
}

/** The archive for `entries` (paths relative, without a leading slash), every mtime = `mtime`. */
export function writeCpio(entries: readonly CpioEntry[], mtime = 0): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  for (const e of entries) {
    const path = e.path.replace(/^\/+/, "");
    if (e.kind === "dir") parts.push(record(ino++, S_IFDIR | (e.mode ?? 0o755), 2, mtime, path, Buffer.alloc(0)));
    else if (e.kind === "file") parts.push(record(ino++, S_IFREG | (e.mode ?? 0o644), 1, mtime, path, e.data));
    else parts.push(record(ino++, S_IFLNK | 0o777, 1, mtime, path, Buffer.from(e.target)));
  }
  parts.push(record(0, 0, 1, 0, "TRAILER!!!", Buffer.alloc(0)));
  return Buffer.concat(parts);
}
