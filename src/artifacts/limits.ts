/**
 * Limits on code packages. The unzipped-size default copies AWS Lambda's quota; the others are
 * Kiln's own guards against hostile archives and say so.
 * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
 */

/** AWS quota: "Deployment package (.zip file archive) size: 250 MB (unzipped)" = 262,144,000 bytes. */
export const DEFAULT_MAX_UNZIPPED_BYTES = 262_144_000;

/**
 * Kiln's own bound on entries per zip (AWS publishes none). It caps the inodes and the memory one
 * upload can cost; real packages with large dependency trees stay well under 30,000 files.
 */
export const DEFAULT_MAX_ENTRIES = 100_000;

/** Longest symlink target accepted (Linux PATH_MAX is 4096 including the NUL). */
export const MAX_SYMLINK_TARGET_BYTES = 4095;

/** Longest path component accepted (Linux NAME_MAX). */
export const MAX_NAME_BYTES = 255;
/**
 * Longest package-relative path accepted: Linux PATH_MAX (4096) less room for the directory the
 * package is unpacked under, so an accepted name can always be created.
 */
export const MAX_PATH_BYTES = 3072;

export interface ExtractLimits {
  /** Abort once the decompressed bytes (counted as they stream) exceed this. */
  maxUnzippedBytes?: number;
  /** Refuse zips whose central directory lists more entries than this. */
  maxEntries?: number;
}

export type ResolvedLimits = Required<ExtractLimits>;

export function resolveLimits(limits: ExtractLimits = {}): ResolvedLimits {
  const maxUnzippedBytes = limits.maxUnzippedBytes ?? DEFAULT_MAX_UNZIPPED_BYTES;
  const maxEntries = limits.maxEntries ?? DEFAULT_MAX_ENTRIES;
  if (!Number.isSafeInteger(maxUnzippedBytes) || maxUnzippedBytes < 0) throw new RangeError(`maxUnzippedBytes must be a non-negative integer, got ${maxUnzippedBytes}`);
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 0) throw new RangeError(`maxEntries must be a non-negative integer, got ${maxEntries}`);
  return { maxUnzippedBytes, maxEntries };
}
