/**
 * The errors a code upload can fail with. The unreadable-zip and unzipped-size errors use AWS's
 * wording; the others are Kiln's and name the offending entry.
 */
import { KilnError } from "../base/index.js";

/** AWS's message for a body that is not a readable zip. */
export const UNREADABLE_ZIP_MESSAGE = "Could not unzip uploaded file. Please check your file, then try to upload again.";

export const unreadableZip = (cause: unknown): KilnError => new KilnError("InvalidParameterValueException", UNREADABLE_ZIP_MESSAGE, { cause });

/** AWS's message when the unzipped package is over the quota. */
export const unzippedTooLarge = (limit: number): KilnError =>
  new KilnError("InvalidParameterValueException", `Unzipped size must be smaller than ${limit} bytes`);

export const tooManyEntries = (count: number, limit: number): KilnError =>
  new KilnError("InvalidParameterValueException", `Zip file has ${count} entries; at most ${limit} are allowed`);

/** An entry Kiln refuses to extract; `name` is shown exactly as stored, escaped. */
export const unsafeEntry = (name: string, reason: string): KilnError =>
  new KilnError("InvalidParameterValueException", `Zip entry ${JSON.stringify(name)} is not allowed: ${reason}`);

/** Disk trouble while unpacking or storing code: the service's fault, not the caller's. */
export const storageFailure = (what: string, cause: unknown): KilnError =>
  new KilnError("ServiceException", `Could not store function code: ${what}`, { cause });

/** Runs filesystem work, reporting any failure that is not already a KilnError as `storageFailure(what)`. */
export async function onDisk<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    throw e instanceof KilnError ? e : storageFailure(what, e);
  }
}
