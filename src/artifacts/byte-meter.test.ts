import { test } from "node:test";
import assert from "node:assert/strict";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { KilnError } from "../base/index.js";
import { EntryMeter, UnzipBudget } from "./byte-meter.js";
import { crc32, tableCrc32 } from "./crc32.js";
import { UNREADABLE_ZIP_MESSAGE } from "./errors.js";

test("crc32 matches the standard check value, incrementally too", () => {
  assert.equal(crc32(Buffer.from("123456789")), 0xcbf43926);
  assert.equal(crc32(Buffer.from("6789"), crc32(Buffer.from("12345"))), 0xcbf43926);
  assert.equal(crc32(Buffer.alloc(0)), 0);
  assert.equal(tableCrc32(Buffer.from("123456789")), 0xcbf43926);
  assert.equal(tableCrc32(Buffer.from("6789"), tableCrc32(Buffer.from("12345"))), 0xcbf43926);
  const random = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251));
  assert.equal(tableCrc32(random), crc32(random));
});

test("the budget allows exactly the limit and refuses one byte more", () => {
  const budget = new UnzipBudget(10);
  budget.charge(4);
  budget.charge(6);
  assert.equal(budget.used, 10);
  assert.throws(
    () => budget.charge(1),
    (e: unknown) => e instanceof KilnError && e.code === "InvalidParameterValueException" && e.message === "Unzipped size must be smaller than 10 bytes",
  );
});

/** Streams `chunks` through a meter into a sink; `sink.bytes` counts what got through. */
async function meter(chunks: Buffer[], budget: UnzipBudget, expectedCrc: number, sink = { bytes: 0 }): Promise<number> {
  const writable = new Writable({
    write(chunk: Buffer, _enc, cb) {
      sink.bytes += chunk.length;
      cb();
    },
  });
  await pipeline(Readable.from(chunks), new EntryMeter(budget, expectedCrc), writable);
  return sink.bytes;
}

test("the meter counts real bytes across entries and stops the stream past the limit", async () => {
  const chunk = Buffer.alloc(1000, 7);
  const budget = new UnzipBudget(2500);
  assert.equal(await meter([chunk], budget, crc32(chunk)), 1000);
  const sink = { bytes: 0 };
  const many = Array.from({ length: 50 }, () => chunk);
  await assert.rejects(meter(many, budget, 0, sink), (e: unknown) => e instanceof KilnError && /smaller than 2500 bytes/.test(e.message));
  assert.equal(budget.used, 3000, "counting stopped at the chunk that crossed the limit");
  assert.equal(sink.bytes, 1000, "that chunk was not passed on");
});

test("the meter refuses data whose CRC-32 does not match", async () => {
  const data = Buffer.from("hello");
  await assert.rejects(meter([data], new UnzipBudget(100), crc32(data) ^ 1), (e: unknown) => e instanceof KilnError && e.message === UNREADABLE_ZIP_MESSAGE);
});
