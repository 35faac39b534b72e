/**
 * Safe extraction of an uploaded code zip into a directory.
 *
 * Order of work: read the central directory and plan it (entry-plan.ts: every name, type,
 * collision and the declared total is checked before anything touches the disk); create a private
 * temporary directory beside `destDir`; make the planned directories; stream each file through an
 * EntryMeter (real byte count + CRC) into a file created exclusively (O_CREAT|O_EXCL, so an
 * existing name, symlink or not, is never opened); read and check symlink targets; create the
 * symlinks last, so no file is ever written after a symlink exists; set modes; rename the
 * temporary directory to `destDir`. On any failure the temporary directory is removed, so
 * `destDir` either appears complete or not at all and nothing is left beside it.
 *
 * Symlink decision: a symlink entry is kept as a symlink when its target resolves inside the
 * package (`node_modules/.bin/x -> ../x/cli.js`, `lib.so -> lib.so.1` are common in real
 * packages and AWS Lambda keeps them); absolute targets, targets that climb out of the package
 * and targets that pass through another symlink are refused. Entries below a symlink are refused.
 */
import { chmod, mkdir, mkdtemp, open, rename, rm, symlink, type FileHandle } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Readable } from "node:stream";
import { KilnError } from "../base/index.js";
import { EntryMeter, UnzipBudget } from "./byte-meter.js";
import { checkSymlinkTarget, DIRECTORY_MODE, planExtraction, type ExtractionPlan, type PlannedEntry } from "./entry-plan.js";
import { onDisk, storageFailure, tooManyEntries, unreadableZip, unsafeEntry } from "./errors.js";
import { MAX_SYMLINK_TARGET_BYTES, resolveLimits, type ExtractLimits } from "./limits.js";
import { entryName, openEntry, openZip, readEntries, type Entry, type ZipFile } from "./zip-reader.js";

/** Entries written at once: enough to keep libuv's file-system threads busy on many small files. */
const WRITE_CONCURRENCY = 8;

export interface ExtractResult {
  /** Files and symlinks created (directories not counted). */
  files: number;
  /** Decompressed bytes actually read: file contents plus symlink targets. */
  unzippedBytes: number;
}

/**
 * Extracts `zip` into `destDir`, which must not exist yet (or be an empty directory); its parent
 * is created if missing. Throws InvalidParameterValueException for bad or unsafe zips,
 * ServiceException for disk trouble.
 */
export async function extractZip(zip: Buffer, destDir: string, limits?: ExtractLimits): Promise<ExtractResult> {
  const resolvedLimits = resolveLimits(limits);
  const archive = await openZip(zip);
  try {
    if (archive.entryCount > resolvedLimits.maxEntries) throw tooManyEntries(archive.entryCount, resolvedLimits.maxEntries);
    const entries = await readEntries(archive);
    const plan = planExtraction(
      entries.map((e) => ({ name: entryName(e), externalFileAttributes: e.externalFileAttributes, uncompressedSize: e.uncompressedSize })),
      resolvedLimits,
    );
    const dest = resolve(destDir);
    const parent = dirname(dest);
    const staging = await onDisk(`creating a staging directory in ${parent}`, async () => {
      await mkdir(parent, { recursive: true });
      return mkdtemp(join(parent, `.${basename(dest)}.tmp-`));
    });
    try {
      const budget = new UnzipBudget(resolvedLimits.maxUnzippedBytes);
      await writeTree(archive, entries, plan, staging, budget);
      await onDisk(`moving the unpacked code to ${dest}`, () => rename(staging, dest));
      return { files: plan.entries.length, unzippedBytes: budget.used };
    } catch (e) {
      await rm(staging, { recursive: true, force: true });
      throw e;
    }
  } finally {
    archive.close();
  }
}

async function writeTree(archive: ZipFile, entries: readonly Entry[], plan: ExtractionPlan, root: string, budget: UnzipBudget): Promise<void> {
  const at = (path: string): string => join(root, ...path.split("/"));
  await onDisk("creating directories", async () => {
    for (const dir of plan.directories) await mkdir(at(dir));
  });

  const links: Array<{ entry: PlannedEntry; target: string }> = [];
  await forEachConcurrently(plan.entries, WRITE_CONCURRENCY, async (planned) => {
    const entry = entries[planned.index]!;
    const meter = new EntryMeter(budget, entry.crc32);
    if (planned.kind === "symlink") {
      links.push({ entry: planned, target: await readLinkTarget(planned, () => openEntry(archive, entry), meter) });
    } else {
      await copyFile(planned, () => openEntry(archive, entry), meter, at(planned.path));
    }
  });
  links.sort((a, b) => a.entry.index - b.entry.index);

  // Check every target against the complete plan (a target may name an entry that comes later).
  for (const { entry, target } of links) checkSymlinkTarget(entry, target, plan.kinds);
  await onDisk("creating symlinks and setting modes", async () => {
    for (const { entry, target } of links) await symlink(target, at(entry.path));
    for (const dir of plan.directories) await chmod(at(dir), DIRECTORY_MODE);
    await chmod(root, DIRECTORY_MODE);
  });
}

/**
 * Runs `work` over `items`, at most `limit` at a time. After the first failure no new work
 * starts; the failure is rethrown once the running work has settled (so the caller's cleanup
 * never races a write).
 */
async function forEachConcurrently<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure !== undefined) throw failure.error;
}

async function copyFile(planned: PlannedEntry, openSource: () => Promise<Readable>, meter: EntryMeter, path: string): Promise<void> {
  let file: FileHandle | undefined;
  let readError: unknown;
  try {
    // "wx" = O_CREAT|O_EXCL: refuses any existing name, including a symlink, instead of following it.
    file = await open(path, "wx", planned.mode);
    await file.chmod(planned.mode); // the create mode is filtered by the umask; set it exactly
    const source = await openSource(); // consumed at once: see openEntry
    source.once("error", (e) => (readError ??= e));
    await pipeline(source, meter, file.createWriteStream());
  } catch (e) {
    if (e instanceof KilnError) throw e;
    if (readError !== undefined) throw unreadableZip(readError);
    throw storageFailure(`writing ${JSON.stringify(planned.path)}`, e);
  } finally {
    // The stream closes the file; this waits for that (or closes it if the stream never ran), so
    // no write outlives this call and the cleanup after it.
    await file?.close();
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

async function readLinkTarget(planned: PlannedEntry, openSource: () => Promise<Readable>, meter: EntryMeter): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    await pipeline(await openSource(), meter, async (data: AsyncIterable<Buffer>) => {
      for await (const chunk of data) {
        length += chunk.length;
        if (length > MAX_SYMLINK_TARGET_BYTES) throw unsafeEntry(planned.name, `the symlink target is longer than ${MAX_SYMLINK_TARGET_BYTES} bytes`);
        chunks.push(chunk);
      }
    });
  } catch (e) {
    throw e instanceof KilnError ? e : unreadableZip(e);
  }
  try {
    return utf8.decode(Buffer.concat(chunks));
  } catch {
    throw unsafeEntry(planned.name, "the symlink target is not valid UTF-8");
  }
}
