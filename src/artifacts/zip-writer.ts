/**
 * Building code zips (yazl): `zipDirectory` for `kiln deploy`, `zipFiles` for tests everywhere.
 * Output is deterministic, so the same input gives the same bytes and the same CodeSha256:
 * entries are sorted by name, every timestamp is 1980-01-01 00:00 in DOS form (no Info-ZIP "UT"
 * field, whose Unix time would depend on the time zone), and modes are normalised the way the
 * extractor will set them (files 0644, or 0755 if any x bit is set; directories 0755).
 *
 * Known caveats: the deflate output is zlib's, so a different Node (zlib) version may produce
 * different bytes for the same input.
 */
import { lstat, readdir, readlink } from "node:fs/promises";
import { join, posix } from "node:path";
import yazl from "yazl";
import { invalidParameter } from "../base/index.js";

/** Local midnight, so the DOS date/time fields read 1980-01-01 00:00 in every time zone. */
const FIXED_MTIME = new Date(1980, 0, 1, 0, 0, 0);
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const DIRECTORY = S_IFDIR | 0o755;

/** File content, or content with a unix mode (`0o755`, or with a type: `0o120777` is a symlink whose data is the target). */
export type ZipFileSpec = string | Buffer | { data: string | Buffer; mode: number };

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const normalMode = (mode: number): number => (mode & 0o111 ? 0o755 : 0o644);

/**
 * A zip of the given files, in memory. Keys are "/"-separated paths; a key ending in "/" is an
 * (empty) directory. Parent directories are implied, as in most zips.
 */
export async function zipFiles(files: Record<string, ZipFileSpec>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const name of Object.keys(files).sort(byName)) {
    const spec = files[name]!;
    if (name.endsWith("/")) {
      zip.addEmptyDirectory(name, { mtime: FIXED_MTIME, mode: DIRECTORY, forceDosTimestamp: true });
      continue;
    }
    const { data, mode } = typeof spec === "string" || Buffer.isBuffer(spec) ? { data: spec, mode: 0o644 } : spec;
    const typed = mode & S_IFMT ? mode : S_IFREG | mode;
    zip.addBuffer(Buffer.from(data), name, { mtime: FIXED_MTIME, mode: typed, forceDosTimestamp: true, compress: (typed & S_IFMT) === S_IFREG });
  }
  return finish(zip);
}

/**
 * A zip of everything under `dir`, skipping `.git` and `node_modules/.cache` at any depth.
 * Symlinks are stored as symlinks (like `zip -y`); one pointing outside `dir` is refused, since
 * the upload would be refused for it.
 */
export async function zipDirectory(dir: string): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  await addTree(zip, dir, "");
  return finish(zip);
}

const skipped = (parentName: string, name: string): boolean => name === ".git" || (parentName === "node_modules" && name === ".cache");

async function addTree(zip: yazl.ZipFile, root: string, rel: string): Promise<void> {
  const names = (await readdir(join(root, rel))).sort(byName);
  const parentName = posix.basename(rel);
  for (const name of names) {
    if (skipped(parentName, name)) continue;
    const path = rel === "" ? name : `${rel}/${name}`;
    const real = join(root, path);
    const stats = await lstat(real);
    if (stats.isDirectory()) {
      zip.addEmptyDirectory(`${path}/`, { mtime: FIXED_MTIME, mode: DIRECTORY, forceDosTimestamp: true });
      await addTree(zip, root, path);
    } else if (stats.isFile()) {
      zip.addFile(real, path, { mtime: FIXED_MTIME, mode: S_IFREG | normalMode(stats.mode), forceDosTimestamp: true });
    } else if (stats.isSymbolicLink()) {
      const target = await readlink(real);
      const resolved = posix.normalize(posix.join(posix.dirname(path), target));
      if (posix.isAbsolute(target) || resolved === ".." || resolved.startsWith("../")) {
        throw invalidParameter(`${real} is a symlink to ${JSON.stringify(target)}, outside ${root}; Lambda packages may only link inside themselves`);
      }
      zip.addBuffer(Buffer.from(target), path, { mtime: FIXED_MTIME, mode: S_IFLNK | 0o777, forceDosTimestamp: true, compress: false });
    } else {
      throw invalidParameter(`${real} is not a file, directory or symlink and cannot be packaged`);
    }
  }
}

function finish(zip: yazl.ZipFile): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.on("error", reject);
    zip.outputStream.on("error", reject);
    zip.outputStream.on("data", (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on("end", () => resolve(Buffer.concat(chunks)));
    zip.end();
  });
}
