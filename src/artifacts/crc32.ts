/**
 * CRC-32 (the zip/gzip polynomial 0xEDB88320), incremental. yauzl does not check entry CRCs, so the
 * extractor does; a small table version keeps Kiln off Node's zlib.crc32 (only in Node >= 20.15).
 */
const TABLE = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c >>> 0;
}

/** CRC-32 of `data`, continuing from `previous` (the CRC of everything before it, 0 to start). */
export function crc32(data: Uint8Array, previous = 0): number {
  let c = ~previous >>> 0;
  for (let i = 0; i < data.length; i++) c = (TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8)) >>> 0;
  return ~c >>> 0;
}
