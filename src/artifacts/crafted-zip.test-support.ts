/**
 * Hand-built zips for the hostile-input tests: any name (absolute, "..", backslashes, NUL), any
 * unix mode, lying sizes and CRCs, raw extra fields. yazl and Info-ZIP refuse to write most of
 * these, which is the point. No zip64, no data descriptors. Test support only.
 */
import { deflateRawSync } from "node:zlib";
import { crc32 } from "./crc32.js";

export interface CraftedEntry {
  name: string | Buffer;
  data?: string | Buffer;
  /** Unix mode including the type bits; default a 0644 regular file. */
  mode?: number;
  /** Deflate the data (default) or store it. */
  deflate?: boolean;
  /** The uncompressed size to claim in both headers, instead of the true one. */
  declaredSize?: number;
  /** The CRC-32 to claim, instead of the true one. */
  crc32?: number;
  /** Raw extra-field bytes for both headers. */
  extra?: Buffer;
}

const UTF8_FLAG = 0x800;
const MADE_BY_UNIX = (3 << 8) | 20;

export function craftZip(entries: readonly CraftedEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.isBuffer(e.name) ? e.name : Buffer.from(e.name, "utf8");
    const data = Buffer.from(e.data ?? "");
    const deflate = e.deflate ?? true;
    const body = deflate ? deflateRawSync(data) : data;
    const extra = e.extra ?? Buffer.alloc(0);
    const crc = e.crc32 ?? crc32(data);
    const size = e.declaredSize ?? data.length;
    const method = deflate ? 8 : 0;

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(UTF8_FLAG, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0, 10); // time
    local.writeUInt16LE(0x21, 12); // date 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(extra.length, 28);
    locals.push(local, name, extra, body);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(MADE_BY_UNIX, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(UTF8_FLAG, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(extra.length, 30);
    central.writeUInt32LE(((e.mode ?? 0o100644) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name, extra);

    offset += 30 + name.length + extra.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** An Info-ZIP Unicode Path extra field (0x7075) giving `realName` for the raw name `rawName`. */
export function unicodePathExtra(rawName: string, realName: string): Buffer {
  const real = Buffer.from(realName, "utf8");
  const field = Buffer.alloc(4 + 5 + real.length);
  field.writeUInt16LE(0x7075, 0);
  field.writeUInt16LE(5 + real.length, 2);
  field.writeUInt8(1, 4);
  field.writeUInt32LE(crc32(Buffer.from(rawName, "utf8")), 5);
  real.copy(field, 9);
  return field;
}

/** A copy of `zip` whose central directory claims `size` as the uncompressed size of entry `index`. */
export function withDeclaredSize(zip: Buffer, index: number, size: number): Buffer {
  const out = Buffer.from(zip);
  const end = out.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) throw new Error("no end of central directory record");
  let at = out.readUInt32LE(end + 16);
  for (let i = 0; i < index; i++) at += 46 + out.readUInt16LE(at + 28) + out.readUInt16LE(at + 30) + out.readUInt16LE(at + 32);
  if (out.readUInt32LE(at) !== 0x02014b50) throw new Error("not a central directory header");
  out.writeUInt32LE(size, at + 24);
  return out;
}
