/**
 * Counting what really comes out of the decompressor. Central-directory sizes are claims: a zip
 * bomb can declare 1 KB and inflate to gigabytes. Every decompressed byte of every entry passes
 * through an `EntryMeter`, which charges it to the zip's shared `UnzipBudget` and aborts the copy
 * the moment the total goes past the limit, and which checks the entry's CRC-32 at the end.
 * (yauzl's validateEntrySizes also stops an entry that outgrows its declared size; the budget is
 * the guard that does not depend on that.)
 */
import { Transform, type TransformCallback } from "node:stream";
import { crc32 } from "./crc32.js";
import { unreadableZip, unzippedTooLarge } from "./errors.js";

export class UnzipBudget {
  private usedBytes = 0;

  constructor(readonly limit: number) {}

  get used(): number {
    return this.usedBytes;
  }

  /** Record `bytes` more decompressed bytes; throws the AWS size error once past the limit. */
  charge(bytes: number): void {
    this.usedBytes += bytes;
    if (this.usedBytes > this.limit) throw unzippedTooLarge(this.limit);
  }
}

/** A pass-through stream for one entry's decompressed bytes. */
export class EntryMeter extends Transform {
  private crc = 0;

  constructor(
    private readonly budget: UnzipBudget,
    private readonly expectedCrc32: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.budget.charge(chunk.length);
    } catch (e) {
      callback(e as Error);
      return;
    }
    this.crc = crc32(chunk, this.crc);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.crc !== this.expectedCrc32) {
      callback(unreadableZip(new Error(`CRC-32 mismatch: expected ${this.expectedCrc32.toString(16)}, got ${this.crc.toString(16)}`)));
      return;
    }
    callback();
  }
}
