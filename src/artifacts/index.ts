/**
 * artifacts: function code packages. Safe extraction of uploaded zips (path, symlink, size and
 * zip-bomb checks, atomic placement), deterministic zip building for `kiln deploy` and tests,
 * CodeSha256, and the standalone mode's content-addressed CodeStore on local disk (packages, and
 * a blob area for other stored files such as SnapStart snapshots).
 * Imports only base (and the store's BlobStore type, for the cluster mirror). Must not import: control, api, frontend, worker, sandbox.
 */
export { extractZip, type ExtractResult } from "./extract.js";
export { zipDirectory, zipFiles, type ZipFileSpec } from "./zip-writer.js";
export { codeSha256, codeSha256ToHex, hexToCodeSha256 } from "./code-sha256.js";
export { BlobArea, hashFile, MAX_MIRRORED_BLOB_BYTES, type StoredBlob } from "./blob-area.js";
export { CodeStore, readBootId, type CodeStoreOptions, type StoredCode } from "./code-store.js";
export { DEFAULT_MAX_ENTRIES, DEFAULT_MAX_UNZIPPED_BYTES, MAX_SYMLINK_TARGET_BYTES, type ExtractLimits } from "./limits.js";
export { UNREADABLE_ZIP_MESSAGE } from "./errors.js";
export { MergedLayers, walkLayer } from "./merged-layers.js";
export { planLayerMerge, type LayerEntry, type LayerEntryKind, type PlannedLayerEntry } from "./layer-merge.js";
