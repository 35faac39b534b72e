/**
 * Stable hashing for rendezvous (highest-random-weight) placement: the same strings give the same
 * weight on every machine, Node version and run (no seed drawn at start, no Math.random). Pure.
 *
 * Algorithm: a string is hashed in two 32-bit lanes over its UTF-16 code units, lane A with
 * FNV-1a, lane B with MurmurHash3's per-unit round; each lane ends with MurmurHash3's fmix32
 * avalanche. The weight of a (function, worker) pair XORs the two strings' lanes, runs fmix32 on
 * each lane again and joins them into one 53-bit integer (lane A high, the top 21 bits of lane B
 * low), exact in a double, so weights compare with `<`.
 *
 * Worked example: `pairWeight(stringHash("acct/f"), stringHash("w1"))` is the same integer in
 * every process; hashing the worker ids once per call and the function key once makes a weight
 * cost two XORs and two fmix32 rounds.
 *
 * Worker ids are hashed through a bounded memo (`workerHash`): a fleet's ids repeat on every
 * decision, and hashing 1,000 of them would otherwise be most of a decision's cost. The memo only
 * caches a pure function, so results never depend on it.
 *
 * Known caveats: not cryptographic; someone who can choose function names could craft keys that
 * share a shard. Two weights tie with probability ~2^-53 per pair; callers break ties by worker id.
 */

/** A string's two 32-bit lanes (unsigned). */
export interface StringHash {
  a: number;
  b: number;
}

/** MurmurHash3's 32-bit finalizer: every input bit flips each output bit with probability ~1/2. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function stringHash(s: string): StringHash {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    let k = Math.imul(c, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    b ^= Math.imul(k, 0x1b873593);
    b = (b << 13) | (b >>> 19);
    b = (Math.imul(b, 5) + 0xe6546b64) | 0;
  }
  return { a: fmix32(a ^ s.length), b: fmix32(b ^ s.length) };
}

const LOW_BITS = 2 ** 21;

/** The rendezvous weight of a (function, worker) pair: an integer in [0, 2^53). */
export function pairWeight(fn: StringHash, worker: StringHash): number {
  return fmix32(fn.a ^ worker.a) * LOW_BITS + (fmix32((fn.b ^ worker.b) >>> 0) >>> 11);
}

/** Worker ids remembered by `workerHash` before the memo starts over (a fleet's ids fit many times). */
const MEMO_LIMIT = 50_000;
const memo = new Map<string, StringHash>();

/** `stringHash(id)`, remembered: worker ids repeat on every placement decision. */
export function workerHash(id: string): StringHash {
  let h = memo.get(id);
  if (h === undefined) {
    if (memo.size >= MEMO_LIMIT) memo.clear();
    h = stringHash(id);
    memo.set(id, h);
  }
  return h;
}
