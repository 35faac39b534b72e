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

/** lib/internal/crypto/random.js: kBatchSize and the randomInt cache (Node 20). */
export const UUID_BATCH = 128;
export const RANDOM_INT_CACHE = 6 * 1024;

export function restoreUniqueness() {
  for (let i = 0; i < UUID_BATCH; i++) crypto.randomUUID();
  for (let i = 0; i < RANDOM_INT_CACHE / 6; i++) crypto.randomInt(0, 2 ** 48 - 1);
}
