/**
 * Kiln keys as NATS subject tokens. NATS KV keys may hold only `[-/_=.a-zA-Z0-9]`, and `.` splits
 * a key into tokens (which subject filters match whole: `a.b.>`). Kiln keys hold `/`, `$`, `:`,
 * `#`, `.` and anything else a user can name.
 *
 * Encoding (reversible): a Kiln key is split on `/` into segments; each segment becomes one token;
 * in a token `[a-zA-Z0-9-]` stay as they are and every other UTF-8 byte becomes `_XX` (upper-case
 * hex); an empty segment (a leading, trailing or doubled `/`) becomes `=` (tokens cannot be
 * empty, and `=` never appears otherwise). A metadata document lives at
 * `d.<collection token>.<key tokens>`.
 *
 * Prefix queries: the segments of a prefix before its last `/` are whole tokens, so
 * `list("functions", "123/f")` filters on `d.functions.123.>` at the server and keeps the keys whose
 * last-segment start with `f` on the client. Prefixes that end in `/` (the usual case: an
 * account, a function) select exactly at the server.
 *
 * Example: collection `functions`, key `123456789012/my.fn:$LATEST` ->
 * `d.functions.123456789012.my_2Efn_3A_24LATEST`.
 */

const PLAIN = /^[a-zA-Z0-9-]$/;
const EMPTY = "=";

/** One token for any string (the empty string included). */
export function encodeToken(s: string): string {
  if (s === "") return EMPTY;
  let out = "";
  for (const ch of s) {
    if (PLAIN.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, "utf8")) out += "_" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

export function decodeToken(t: string): string {
  if (t === EMPTY) return "";
  const bytes: number[] = [];
  for (let i = 0; i < t.length; i++) {
    if (t[i] === "_") {
      const hex = t.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) throw new TypeError(`not an encoded token: ${t}`);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(t.charCodeAt(i));
  }
  return Buffer.from(bytes).toString("utf8");
}

/** The key tokens of a Kiln key, joined with `.`. */
export function encodeKey(key: string): string {
  return key.split("/").map(encodeToken).join(".");
}

export function decodeKey(tokens: string): string {
  return tokens.split(".").map(decodeToken).join("/");
}

export const DOCUMENT_ROOT = "d";
export const INTENT_ROOT = "txn";

/** The NATS KV key of a document. */
export function documentKey(collection: string, key: string): string {
  return `${DOCUMENT_ROOT}.${encodeToken(collection)}.${encodeKey(key)}`;
}

/** The (collection, key) a NATS KV key names, or undefined for keys that are not documents. */
export function parseDocumentKey(natsKey: string): { collection: string; key: string } | undefined {
  const parts = natsKey.split(".");
  if (parts[0] !== DOCUMENT_ROOT || parts.length < 3) return undefined;
  return { collection: decodeToken(parts[1]!), key: decodeKey(parts.slice(2).join(".")) };
}

/**
 * The server-side filter for a prefix query, plus the part of the prefix left for the client:
 * every key of the collection with `prefix` as a string prefix matches `filter`.
 */
export function prefixFilter(collection: string, prefix: string): { filter: string; rest: string } {
  const cut = prefix.lastIndexOf("/");
  const c = `${DOCUMENT_ROOT}.${encodeToken(collection)}`;
  if (cut < 0) return { filter: `${c}.>`, rest: prefix };
  return { filter: `${c}.${encodeKey(prefix.slice(0, cut))}.>`, rest: prefix.slice(cut + 1) };
}
