/**
 * Extraction planning: decides, from the central directory alone, what a zip would create and
 * whether that is safe. Pure; the extractor (extract.ts) does the I/O and only ever writes what a
 * plan allows.
 *
 * Algorithm. For each entry in central-directory order:
 *   1. Normalise the stored name (no backslash rewriting): refuse empty names, NUL, backslashes,
 *      absolute and drive-letter paths and `..` segments; drop `.` and empty segments.
 *   2. Classify it from the unix mode in the high 16 bits of the external attributes: a trailing
 *      `/` or S_IFDIR is a directory, S_IFLNK a symlink, S_IFREG or no type a file; anything else
 *      (fifo, device, socket) is refused. Files get 0755 if any x bit is set, else 0644.
 *   3. Record every ancestor as an implicit directory and refuse the entry if an ancestor is a
 *      file or a symlink (so nothing is ever written through a symlink), if its path is already
 *      taken by another entry, or if a file and a directory claim the same path.
 *   4. Sum the declared sizes and refuse the zip if the sum is over the limit, before any byte is
 *      decompressed. (The extractor also counts the real bytes; see byte-meter.ts.)
 * Symlink targets are content, so they are checked once read, by `checkSymlinkTarget`.
 *
 * Worked example: ["bin/", "bin/bootstrap" (0o100755), "lib/x.so", "lib/y.so" -> "x.so" (S_IFLNK)]
 * plans directories ["bin", "lib"] (lib implicit), files bin/bootstrap 0755 and lib/x.so 0644, and
 * the symlink lib/y.so, whose target resolves to "lib/x.so" inside the package.
 *
 * Known caveats: names are compared byte-exactly, as Linux does; on a case-insensitive or
 * Unicode-normalising filesystem "A" and "a" would collide at write time and fail there (the
 * exclusive create catches it) rather than here.
 */
import { tooManyEntries, unsafeEntry, unzippedTooLarge } from "./errors.js";
import { MAX_NAME_BYTES, MAX_PATH_BYTES, MAX_SYMLINK_TARGET_BYTES, type ResolvedLimits } from "./limits.js";

/** What the planner needs from one central-directory record. */
export interface RawEntry {
  /** The decoded name exactly as stored (backslashes kept). */
  name: string;
  externalFileAttributes: number;
  uncompressedSize: number;
}

export type EntryKind = "file" | "directory" | "symlink";

export interface PlannedEntry {
  /** Position in the central directory, to find the entry's data again. */
  index: number;
  /** The stored name, for error messages. */
  name: string;
  /** Normalised package-relative path, "/"-separated. */
  path: string;
  kind: "file" | "symlink";
  /** Permission bits to set on a file (0o755 or 0o644); 0 for symlinks. */
  mode: number;
  declaredSize: number;
}

export interface ExtractionPlan {
  /** Files and symlinks in central-directory order. */
  entries: PlannedEntry[];
  /** Every directory to create, explicit or implied, parents before children. */
  directories: string[];
  /** What each path in the package is. */
  kinds: ReadonlyMap<string, EntryKind>;
  declaredBytes: number;
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

export const FILE_MODE = 0o644;
export const EXECUTABLE_MODE = 0o755;
export const DIRECTORY_MODE = 0o755;

const utf8Length = (s: string): number => Buffer.byteLength(s, "utf8");

/** Step 1: the package-relative path an entry name denotes, or a refusal naming the entry. */
export function normalizeEntryName(name: string): { path: string; isDirectory: boolean } {
  if (name === "") throw unsafeEntry(name, "the name is empty");
  if (name.includes("\0")) throw unsafeEntry(name, "the name contains a NUL byte");
  if (name.includes("\\")) throw unsafeEntry(name, 'the name contains a backslash (zip paths separate with "/")');
  if (name.startsWith("/")) throw unsafeEntry(name, "absolute paths are not allowed");
  if (/^[A-Za-z]:/.test(name)) throw unsafeEntry(name, "drive-letter paths are not allowed");
  const segments = name.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.includes("..")) throw unsafeEntry(name, '".." path segments are not allowed');
  for (const s of segments) if (utf8Length(s) > MAX_NAME_BYTES) throw unsafeEntry(name, `a path segment is longer than ${MAX_NAME_BYTES} bytes`);
  const path = segments.join("/");
  if (utf8Length(path) > MAX_PATH_BYTES) throw unsafeEntry(name, `the path is longer than ${MAX_PATH_BYTES} bytes`);
  return { path, isDirectory: name.endsWith("/") };
}

/** Step 2: kind and permission bits from the unix mode. */
export function classifyEntry(name: string, externalFileAttributes: number, isDirectory: boolean): { kind: EntryKind; mode: number } {
  const unixMode = externalFileAttributes >>> 16;
  const type = unixMode & S_IFMT;
  if (isDirectory || type === S_IFDIR) return { kind: "directory", mode: DIRECTORY_MODE };
  if (type === S_IFLNK) return { kind: "symlink", mode: 0 };
  if (type === S_IFREG || type === 0) return { kind: "file", mode: unixMode & 0o111 ? EXECUTABLE_MODE : FILE_MODE };
  throw unsafeEntry(name, `unsupported file type (mode 0o${unixMode.toString(8)}); only files, directories and symlinks can be extracted`);
}

/** Steps 1-4 over the whole central directory. Throws the first refusal. */
export function planExtraction(raw: readonly RawEntry[], limits: ResolvedLimits): ExtractionPlan {
  if (raw.length > limits.maxEntries) throw tooManyEntries(raw.length, limits.maxEntries);
  const kinds = new Map<string, EntryKind>();
  /** Who claimed each path first: the entry name, for collision messages. */
  const claimedBy = new Map<string, string>();
  const explicit = new Set<string>();
  const directories: string[] = [];
  const entries: PlannedEntry[] = [];
  let declaredBytes = 0;

  raw.forEach((entry, index) => {
    const { path, isDirectory } = normalizeEntryName(entry.name);
    const { kind, mode } = classifyEntry(entry.name, entry.externalFileAttributes, isDirectory);
    if (path === "") {
      if (kind === "directory") return; // "./": the package root itself
      throw unsafeEntry(entry.name, "the name does not name a file");
    }

    const segments = path.split("/");
    for (let i = 1; i < segments.length; i++) {
      const ancestor = segments.slice(0, i).join("/");
      const ancestorKind = kinds.get(ancestor);
      if (ancestorKind === undefined) {
        kinds.set(ancestor, "directory");
        claimedBy.set(ancestor, entry.name);
        directories.push(ancestor);
      } else if (ancestorKind !== "directory") {
        throw unsafeEntry(entry.name, `its parent ${JSON.stringify(claimedBy.get(ancestor))} is a ${ancestorKind}, not a directory`);
      }
    }

    const existing = kinds.get(path);
    if (existing !== undefined) {
      const implicitDirectory = existing === "directory" && !explicit.has(path);
      if (!(implicitDirectory && kind === "directory")) {
        const other = claimedBy.get(path) ?? path;
        if (existing === kind && other === entry.name) throw unsafeEntry(entry.name, "the zip contains this path more than once");
        if (existing === kind) throw unsafeEntry(entry.name, `it names the same path as entry ${JSON.stringify(other)}`);
        throw unsafeEntry(entry.name, `it conflicts with entry ${JSON.stringify(other)}: one path cannot be both a ${existing} and a ${kind}`);
      }
      explicit.add(path);
      return;
    }
    kinds.set(path, kind);
    claimedBy.set(path, entry.name);
    explicit.add(path);
    if (kind === "directory") {
      directories.push(path);
      return;
    }
    if (kind === "symlink") {
      if (entry.uncompressedSize === 0) throw unsafeEntry(entry.name, "the symlink has an empty target");
      if (entry.uncompressedSize > MAX_SYMLINK_TARGET_BYTES) throw unsafeEntry(entry.name, `the symlink target is longer than ${MAX_SYMLINK_TARGET_BYTES} bytes`);
    }
    declaredBytes += entry.uncompressedSize;
    entries.push({ index, name: entry.name, path, kind, mode, declaredSize: entry.uncompressedSize });
  });

  if (declaredBytes > limits.maxUnzippedBytes) throw unzippedTooLarge(limits.maxUnzippedBytes);
  return { entries, directories, kinds, declaredBytes };
}

/**
 * A symlink may stay a symlink only if its target resolves inside the package. The target is
 * resolved lexically from the link's directory; because `..` after a symlink means "the parent of
 * wherever that link points", lexical resolution is only sound if no component before the last is
 * itself a symlink, so such targets are refused too. The last component may be a symlink: it was
 * checked by the same rule. Returns the package-relative path the link points at.
 */
export function checkSymlinkTarget(link: Pick<PlannedEntry, "name" | "path">, target: string, kinds: ReadonlyMap<string, EntryKind>): string {
  const refuse = (why: string) => unsafeEntry(link.name, `it is a symlink to ${JSON.stringify(target)}, ${why}`);
  if (target === "") throw refuse("an empty target");
  if (target.includes("\0")) throw refuse("whose target contains a NUL byte");
  if (target.includes("\\")) throw refuse("whose target contains a backslash");
  if (target.startsWith("/")) throw refuse("an absolute path; symlinks must point inside the package");
  const resolved = link.path.split("/").slice(0, -1);
  const parts = target.split("/");
  parts.forEach((part, i) => {
    if (part === "" || part === ".") return;
    if (part === "..") {
      if (resolved.length === 0) throw refuse("which points outside the package");
      resolved.pop();
      return;
    }
    resolved.push(part);
    const followedByMore = parts.slice(i + 1).some((p) => p !== "" && p !== ".");
    if (followedByMore && kinds.get(resolved.join("/")) === "symlink") throw refuse(`which passes through another symlink (${JSON.stringify(resolved.join("/"))})`);
  });
  return resolved.join("/");
}
