/**
 * Store contracts. Metadata is a set of collections of JSON documents keyed by string, each
 * document with a revision for compare-and-set: the shape maps one-to-one onto NATS JetStream
 * key-value buckets (cluster mode) and onto one SQLite table (standalone mode).
 */

export interface Versioned<T> {
  value: T;
  /** Monotonic per key; 0 means "does not exist" in expectations. */
  revision: number;
}

export interface ListPage<T> {
  items: Array<{ key: string; value: T }>;
  /** Key to pass as `after` for the next page, when there is one. */
  next?: string;
}

export class RevisionMismatchError extends Error {
  constructor(readonly collection: string, readonly key: string) {
    super(`revision mismatch on ${collection}/${key}`);
  }
}

export interface MetadataStore {
  get<T>(collection: string, key: string): Promise<Versioned<T> | undefined>;
  /**
   * Writes a document. With `expectedRevision`, the write happens only if the current revision
   * matches (0 = key must not exist), else RevisionMismatchError. Returns the new revision.
   */
  put<T>(collection: string, key: string, value: T, expectedRevision?: number): Promise<number>;
  /** Deletes a document (and, with `prefix: true`, every key starting with `key`). Returns how many went. */
  delete(collection: string, key: string, opts?: { prefix?: boolean }): Promise<number>;
  /** Keys starting with `prefix`, in key order, strictly after `after`. */
  list<T>(collection: string, prefix: string, opts?: { after?: string; limit?: number }): Promise<ListPage<T>>;
  /** Several writes, all or none. */
  batch(ops: BatchOp[]): Promise<void>;
  close(): Promise<void>;
}

export type BatchOp =
  | { op: "put"; collection: string; key: string; value: unknown; expectedRevision?: number }
  | { op: "delete"; collection: string; key: string; prefix?: boolean };

export interface LogEvent {
  timestamp: number;
  message: string;
}

export interface StoredLogEvent extends LogEvent {
  logStreamName: string;
  ingestionTime: number;
  eventId: string;
}

export interface LogStore {
  append(accountId: string, group: string, stream: string, events: LogEvent[]): void;
  filter(
    accountId: string,
    group: string,
    opts: { startTime?: number; endTime?: number; streamNames?: string[]; limit?: number; nextToken?: string },
  ): Promise<{ events: StoredLogEvent[]; nextToken?: string }>;
  streams(accountId: string, group: string): Promise<Array<{ logStreamName: string; firstEventTimestamp: number; lastEventTimestamp: number }>>;
  deleteGroup(accountId: string, group: string): Promise<void>;
  flush(): Promise<void>;
}

/**
 * Named binary objects shared by every node (code zips, snapshot blobs): the object store
 * `kiln-code` in cluster mode. Keys are opaque strings (`<hex sha256>`, `snapshot/<id>`); a put of
 * an existing key replaces it.
 */
export interface BlobStore {
  put(key: string, data: Buffer): Promise<void>;
  /** The object's bytes, or undefined when there is none. */
  get(key: string): Promise<Buffer | undefined>;
  has(key: string): Promise<boolean>;
  /** Removes an object; removing a missing one is not an error. */
  delete(key: string): Promise<void>;
}
