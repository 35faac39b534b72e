/**
 * The thin layer over yauzl. Opens a zip held in memory with the options the extractor relies on
 * and turns yauzl's callbacks and events into promises. Any failure here means the bytes are not
 * a readable zip and surfaces as AWS's "Could not unzip uploaded file" error.
 *
 * Names are decoded with strict rules (backslashes kept, not rewritten to "/") and yauzl's own
 * name check is off (`decodeStrings: false`), so that entry-plan.ts alone decides which names are
 * safe and can say which entry it refused. The Info-ZIP Unicode Path extra field is honoured, as
 * yauzl would, so a benign-looking raw name cannot smuggle an unsafe real one past the check.
 */
import yauzl from "yauzl";
import type { Entry, ZipFile } from "yauzl";
import type { Readable } from "node:stream";
import { unreadableZip } from "./errors.js";

export type { Entry, ZipFile };

export async function openZip(zip: Buffer): Promise<ZipFile> {
  try {
    return await yauzl.fromBufferPromise(zip, { lazyEntries: true, validateEntrySizes: true, decodeStrings: false, strictFileNames: true });
  } catch (e) {
    throw unreadableZip(e);
  }
}

/** The entry's name as stored: UTF-8 or CP437 per its flags, or its Unicode Path extra field. */
export function entryName(entry: Entry): string {
  return yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
}

/** Reads the whole central directory. Callers bound `zip.entryCount` first. */
export function readEntries(zip: ZipFile): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: Entry[] = [];
    const onEntry = (entry: Entry): void => {
      entries.push(entry);
      zip.readEntry();
    };
    const onEnd = (): void => {
      detach();
      resolve(entries);
    };
    const onError = (err: unknown): void => {
      detach();
      reject(unreadableZip(err));
    };
    const detach = (): void => {
      zip.off("entry", onEntry);
      zip.off("end", onEnd);
      zip.off("error", onError);
    };
    zip.on("entry", onEntry);
    zip.on("end", onEnd);
    zip.on("error", onError);
    zip.readEntry();
  });
}

/**
 * The entry's decompressed bytes. yauzl checks them against the declared size as they flow.
 * Attach a consumer (pipeline) in the same tick the promise resolves: yauzl forwards zlib errors
 * with a bare `emit("error")` a macrotask later, which does not leave the stream errored, so a
 * consumer attached after that emission would wait forever.
 */
export async function openEntry(zip: ZipFile, entry: Entry): Promise<Readable> {
  try {
    return await zip.openReadStreamPromise(entry);
  } catch (e) {
    throw unreadableZip(e);
  }
}
