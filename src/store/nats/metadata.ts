/**
 * MetadataStore on the NATS KV bucket `kiln-meta`. One document per KV key (see keys.ts for the
 * encoding), its value the document's JSON.
 *
 * Revisions are KV revisions: the bucket stream's sequence number of the key's last write. They
 * grow with every write to the key but not by one (other keys' writes take sequence numbers in
 * between), so callers must treat them as opaque tokens compared for equality; Kiln's control
 * plane only reads a revision and hands it back as `expectedRevision` (src/control/*), never does
 * arithmetic on it. Compare-and-set: `expectedRevision` 0 is `kv.create` (key absent or deleted),
 * n > 0 is `kv.update(key, value, n)`; the server's "wrong last sequence" (10071) becomes
 * RevisionMismatchError.
 *
 * Listing: `kv.keys(filter)` streams the matching keys (headers only) from an ordered consumer;
 * they are decoded, filtered by the exact string prefix, sorted and paged on the client, then the
 * page's values are read. A page costs one pass over the keys under the prefix's last `/`, so
 * prefixes should end at a `/` boundary where collections are large (Kiln's do: `<account>/`).
 *
 * Batches: see intents.ts (intent record + roll-forward; no multi-key transactions in 2.9).
 */
import type { KV } from "@nats-io/kv";
import { RevisionMismatchError, type BatchOp, type ListPage, type MetadataStore, type Versioned } from "../contract.js";
import { documentKey, parseDocumentKey, prefixFilter } from "./keys.js";
import { isWrongLastSequence } from "./kv-errors.js";
import { BatchWriter } from "./intents.js";
import type { Clock } from "../../base/index.js";

export const DEFAULT_LIST_LIMIT = 1000;
const encoder = new TextEncoder();

export class NatsMetadataStore implements MetadataStore {
  private readonly batches: BatchWriter;

  constructor(
    readonly kv: KV,
    clock: Clock,
    opts: { intentGraceMs?: number; sweepEveryMs?: number } = {},
  ) {
    this.batches = new BatchWriter(kv, clock, this, opts);
  }

  /** Rolls forward batches a crashed process left half-applied; then every `sweepEveryMs`. */
  start(): Promise<number> {
    return this.batches.start();
  }

  async get<T>(collection: string, key: string): Promise<Versioned<T> | undefined> {
    const e = await this.kv.get(documentKey(collection, key));
    if (!e || e.operation !== "PUT") return undefined;
    return { value: e.json<T>(), revision: e.revision };
  }

  async put<T>(collection: string, key: string, value: T, expectedRevision?: number): Promise<number> {
    return writeDocument(this.kv, collection, key, value, expectedRevision);
  }

  async delete(collection: string, key: string, opts: { prefix?: boolean } = {}): Promise<number> {
    const keys = opts.prefix ? await this.keysUnder(collection, key) : (await this.get(collection, key)) ? [key] : [];
    for (let i = 0; i < keys.length; i += 64) {
      await Promise.all(keys.slice(i, i + 64).map((k) => this.kv.delete(documentKey(collection, k))));
    }
    return keys.length;
  }

  async list<T>(collection: string, prefix: string, opts: { after?: string; limit?: number } = {}): Promise<ListPage<T>> {
    const limit = Math.max(1, opts.limit ?? DEFAULT_LIST_LIMIT);
    const after = opts.after;
    const keys = (await this.keysUnder(collection, prefix)).filter((k) => after === undefined || k > after);
    const pageKeys = keys.slice(0, limit);
    const values = await Promise.all(pageKeys.map((k) => this.get<T>(collection, k)));
    const items: ListPage<T>["items"] = [];
    pageKeys.forEach((k, i) => {
      const v = values[i];
      if (v) items.push({ key: k, value: v.value });
    });
    const page: ListPage<T> = { items };
    if (keys.length > limit) page.next = pageKeys[pageKeys.length - 1]!;
    return page;
  }

  /** Every live key of a collection starting with `prefix`, sorted. */
  async keysUnder(collection: string, prefix: string): Promise<string[]> {
    const { filter } = prefixFilter(collection, prefix);
    const out: string[] = [];
    for await (const natsKey of await this.kv.keys(filter)) {
      const doc = parseDocumentKey(natsKey);
      if (doc && doc.collection === collection && doc.key.startsWith(prefix)) out.push(doc.key);
    }
    return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  batch(ops: BatchOp[]): Promise<void> {
    return this.batches.run(ops);
  }

  async close(): Promise<void> {
    this.batches.stop();
  }
}

/** One compare-and-set (or unconditional) write; RevisionMismatchError when it loses. */
export async function writeDocument(kv: KV, collection: string, key: string, value: unknown, expectedRevision?: number): Promise<number> {
  const k = documentKey(collection, key);
  const data = encoder.encode(JSON.stringify(value));
  try {
    if (expectedRevision === undefined) return await kv.put(k, data);
    if (expectedRevision === 0) return await kv.create(k, data);
    return await kv.update(k, data, expectedRevision);
  } catch (e) {
    if (isWrongLastSequence(e)) throw new RevisionMismatchError(collection, key);
    throw e;
  }
}
