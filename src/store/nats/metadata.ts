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
 * Listing: the bucket stream's info with a subject filter (answered by the stream leader) names
 * every key under the prefix's last `/` (deleted ones too: their markers are messages); they are
 * decoded, filtered by the exact string prefix and sorted on the client, then values are read in
 * key order, skipping deleted keys, until the page is full. Not `kv.keys()`: that creates an
 * ephemeral consumer, which nats-server 2.9 may place on a peer that is down (the request then
 * times out), while stream info only needs the stream's leader. A page costs one pass over the
 * keys under the prefix's last `/`, so prefixes should end at a `/` boundary where collections are
 * large (Kiln's do: `<account>/`).
 *
 * Failover: while a replicated bucket elects a new leader (a node died), requests time out; reads
 * are retried once (they are idempotent), writes are not (a timed-out write may have happened:
 * callers see the timeout, and a CAS retry then reports RevisionMismatchError).
 *
 * Batches: see intents.ts (intent record + roll-forward; no multi-key transactions in 2.9).
 */
import type { JetStreamManager } from "@nats-io/jetstream";
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
    readonly bucket: string,
    private readonly jsm: JetStreamManager,
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
    const e = await readRetrying(() => this.kv.get(documentKey(collection, key)));
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
    const candidates = (await this.candidates(collection, prefix)).filter((k) => after === undefined || k > after);
    const found: ListPage<T>["items"] = [];
    for (let i = 0; i < candidates.length && found.length <= limit; i += limit + 1) {
      const chunk = candidates.slice(i, i + limit + 1);
      const values = await Promise.all(chunk.map((k) => this.get<T>(collection, k)));
      chunk.forEach((k, n) => {
        const v = values[n];
        if (v) found.push({ key: k, value: v.value });
      });
    }
    const page: ListPage<T> = { items: found.slice(0, limit) };
    if (found.length > limit) page.next = page.items[page.items.length - 1]!.key;
    return page;
  }

  /** Every live key of a collection starting with `prefix`, sorted. */
  async keysUnder(collection: string, prefix: string): Promise<string[]> {
    const keys = await this.candidates(collection, prefix);
    const live = await Promise.all(keys.map((k) => this.get(collection, k)));
    return keys.filter((_, i) => live[i] !== undefined);
  }

  /** Every key of a collection starting with `prefix` that has a message (live or deleted), sorted. */
  private async candidates(collection: string, prefix: string): Promise<string[]> {
    const out: string[] = [];
    for (const natsKey of await this.natsKeys(prefixFilter(collection, prefix).filter)) {
      const doc = parseDocumentKey(natsKey);
      if (doc && doc.collection === collection && doc.key.startsWith(prefix)) out.push(doc.key);
    }
    return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** The NATS KV keys matching a filter that hold a message (deleted keys included). */
  async natsKeys(filter: string): Promise<string[]> {
    const root = `$KV.${this.bucket}.`;
    const info = await readRetrying(() => this.jsm.streams.info(`KV_${this.bucket}`, { subjects_filter: root + filter }));
    return Object.keys(info.state.subjects ?? {}).map((s) => s.slice(root.length));
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

/** Runs an idempotent read, once more if it timed out (a leader election takes a few seconds). */
async function readRetrying<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    if (!(e instanceof Error && e.name === "TimeoutError")) throw e;
    return read();
  }
}
