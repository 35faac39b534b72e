/**
 * Restore uniqueness: every process restored from one V8 startup snapshot starts from the same
 * heap, so whatever randomness the heap caches is shared by all clones until replaced. Called first
 * thing after every restore (snapshot-main.mjs), before the after-restore hooks.
 *
 * - Math.random: V8 keeps its state in the native context and re-seeds it from the OS when a
 *   context is deserialized, so clones draw different sequences (test/coldstart checks it).
 * - OpenSSL's generator (crypto.randomBytes, randomFill, getRandomValues, webcrypto): native
 *   memory, not in the V8 heap; each restored process seeds its own at first use.
 * - Node caches random bytes in JavaScript: 128 UUIDs' worth for crypto.randomUUID() and 6 KiB for
 *   crypto.randomInt(). Both caches refill from OpenSSL when used up, so drawing a full cache's
 *   worth forces a refill wherever the snapshot left them: UUID_BATCH calls to randomUUID() and
 *   RANDOM_INT_CACHE / 6 calls to randomInt() (6 bytes each). ~0.3 ms.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";

/** lib/internal/crypto/random.js: kBatchSize and the randomInt cache (Node 20). */
export const UUID_BATCH = 128;
export const RANDOM_INT_CACHE = 6 * 1024;

export function restoreUniqueness() {
  for (let i = 0; i < UUID_BATCH; i++) crypto.randomUUID();
  for (let i = 0; i < RANDOM_INT_CACHE / 6; i++) crypto.randomInt(0, 2 ** 48 - 1);
}

/**
 * After a micro-VM snapshot restore (the Runtime API's first answer carries `Kiln-Restored`): the
 * whole process is a copy, heap and native memory alike, so every user-space generator is shared
 * by all clones: V8's Math.random, and OpenSSL's DRBG behind crypto.randomBytes, randomFill(Sync),
 * randomUUID, randomInt and getRandomValues (OpenSSL 3 has no VM-clone detection). Kiln's agent
 * reseeded the guest kernel's generator, so from here on all of them draw from /dev/urandom:
 * Math.random becomes an xorshift128+ seeded from it (V8 cannot reseed its own), and the crypto
 * functions read it directly (one read(2) per call; builtin ESM exports are re-synced so named
 * imports see the replacements).
 */
export function reseedAfterVmRestore() {
  const fd = fs.openSync("/dev/urandom", "r");
  /** @template {Uint8Array} T @param {T} view @returns {T} */
  const fill = (view) => {
    for (let off = 0; off < view.byteLength; ) off += fs.readSync(fd, view, off, view.byteLength - off, null);
    return view;
  };
  /** @param {any} buf @param {number} [offset] @param {number} [size] */
  const viewOf = (buf, offset = 0, size) => {
    const bytes = ArrayBuffer.isView(buf) ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) : new Uint8Array(buf);
    return bytes.subarray(offset, size === undefined ? undefined : offset + size);
  };
  const seed = fill(Buffer.alloc(16));
  let s0 = seed.readBigUInt64LE(0) | 1n;
  let s1 = seed.readBigUInt64LE(8);
  const MASK = (1n << 64n) - 1n;
  Math.random = function random() {
    let x = s0;
    const y = s1;
    s0 = y;
    x ^= (x << 23n) & MASK;
    x ^= x >> 17n;
    x ^= y ^ (y >> 26n);
    s1 = x;
    return Number(((s0 + s1) & MASK) >> 11n) / 2 ** 53;
  };
  const c = /** @type {any} */ (crypto);
  c.randomBytes = (/** @type {number} */ size, /** @type {any} */ cb) => {
    const b = fill(Buffer.allocUnsafe(size));
    if (typeof cb !== "function") return b;
    process.nextTick(cb, null, b);
  };
  c.randomFillSync = (/** @type {any} */ buf, /** @type {number} */ offset, /** @type {number} */ size) => (fill(viewOf(buf, offset, size)), buf);
  c.randomFill = (/** @type {any} */ buf, /** @type {any[]} */ ...rest) => {
    const cb = rest.pop();
    fill(viewOf(buf, rest[0], rest[1]));
    process.nextTick(cb, null, buf);
  };
  const getRandomValues = (/** @type {any} */ arr) => (fill(viewOf(arr)), arr);
  try {
    Object.defineProperty(c, "getRandomValues", { value: getRandomValues, configurable: true, writable: true, enumerable: true });
  } catch {
    // not configurable in this Node: webcrypto below still covers globalThis.crypto
  }
  if (crypto.webcrypto) Object.defineProperty(crypto.webcrypto, "getRandomValues", { value: getRandomValues, configurable: true, writable: true });
  c.randomUUID = () => {
    const b = fill(Buffer.allocUnsafe(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = b.toString("hex");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };
  c.randomInt = (/** @type {any[]} */ ...args) => {
    const cb = typeof args[args.length - 1] === "function" ? args.pop() : undefined;
    const [min, max] = args.length === 1 ? [0, args[0]] : args;
    const range = max - min;
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || range <= 0 || range > 2 ** 48) throw new RangeError(`randomInt: invalid range [${min}, ${max})`);
    const limit = 2 ** 48 - (2 ** 48 % range);
    let x;
    do x = fill(Buffer.allocUnsafe(6)).readUIntBE(0, 6);
    while (x >= limit);
    const v = min + (x % range);
    if (!cb) return v;
    process.nextTick(cb, null, v);
  };
  syncBuiltinESMExports();
}
