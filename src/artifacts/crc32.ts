/**
 * CRC-32 (the zip/gzip polynomial 0xEDB88320), incremental. yauzl does not check entry CRCs, so the
 * extractor does. Node's native zlib.crc32 (Node >= 20.15) is about ten times faster than the
 * table version, which stays as the fallback for the older Node 20 releases Kiln supports.
 */
import zlib from "node:zlib";

const TABLE = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c >>> 0;
}

/** The table implementation; exported so tests can compare it with the native one. */
export function tableCrc32(data: Uint8Array, previous = 0): number {
  let c = ~previous >>> 0;
  for (let i = 0; i < data.length; i++) c = (TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8)) >>> 0;
  return ~c >>> 0;
}

/** CRC-32 of `data`, continuing from `previous` (the CRC of everything before it, 0 to start). */
export const crc32: (data: Uint8Array, previous?: number) => number =
  typeof zlib.crc32 === "function" ? (data, previous = 0) => zlib.crc32(data, previous) : tableCrc32;
