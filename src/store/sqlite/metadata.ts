/** MetadataStore on one SQLite table. Every call is one transaction; WAL + synchronous=FULL make it crash-safe. */
import type { SqliteDatabase } from "./database.js";
import { RevisionMismatchError, type BatchOp, type ListPage, type MetadataStore, type Versioned } from "../contract.js";

const escapeLike = (s: string): string => s.replace(/[\\%_]/g, (c) => "\\" + c);

export class SqliteMetadataStore implements MetadataStore {
  private readonly stmts;

  constructor(private readonly db: SqliteDatabase) {
    this.stmts = {
      get: db.prepare<[string, string], { value: string; revision: number }>("SELECT value, revision FROM documents WHERE collection = ? AND key = ?"),
      insert: db.prepare("INSERT INTO documents (collection, key, value, revision) VALUES (?, ?, ?, 1)"),
      update: db.prepare("UPDATE documents SET value = ?, revision = revision + 1 WHERE collection = ? AND key = ?"),
      del: db.prepare("DELETE FROM documents WHERE collection = ? AND key = ?"),
      delPrefix: db.prepare("DELETE FROM documents WHERE collection = ? AND key LIKE ? ESCAPE '\\'"),
      list: db.prepare<[string, string, string, number], { key: string; value: string }>(
        "SELECT key, value FROM documents WHERE collection = ? AND key LIKE ? ESCAPE '\\' AND key > ? ORDER BY key LIMIT ?",
      ),
    };
  }

  async get<T>(collection: string, key: string): Promise<Versioned<T> | undefined> {
    const row = this.stmts.get.get(collection, key);
    return row ? { value: JSON.parse(row.value) as T, revision: row.revision } : undefined;
  }

  private putSync(collection: string, key: string, value: unknown, expectedRevision?: number): number {
    const current = this.stmts.get.get(collection, key);
    if (expectedRevision !== undefined && (current?.revision ?? 0) !== expectedRevision) throw new RevisionMismatchError(collection, key);
    const json = JSON.stringify(value);
    if (current) {
      this.stmts.update.run(json, collection, key);
      return current.revision + 1;
    }
    this.stmts.insert.run(collection, key, json);
    return 1;
  }

  private deleteSync(collection: string, key: string, prefix = false): number {
    return prefix ? this.stmts.delPrefix.run(collection, escapeLike(key) + "%").changes : this.stmts.del.run(collection, key).changes;
  }

  async put<T>(collection: string, key: string, value: T, expectedRevision?: number): Promise<number> {
    return this.db.transaction(() => this.putSync(collection, key, value, expectedRevision)).immediate();
  }

  async delete(collection: string, key: string, opts: { prefix?: boolean } = {}): Promise<number> {
    return this.deleteSync(collection, key, opts.prefix);
  }

  async list<T>(collection: string, prefix: string, opts: { after?: string; limit?: number } = {}): Promise<ListPage<T>> {
    const limit = opts.limit ?? 1000;
    const rows = this.stmts.list.all(collection, escapeLike(prefix) + "%", opts.after ?? "", limit + 1);
    const items = rows.slice(0, limit).map((r) => ({ key: r.key, value: JSON.parse(r.value) as T }));
    const page: ListPage<T> = { items };
    if (rows.length > limit && items.length > 0) page.next = items[items.length - 1]!.key;
    return page;
  }

  async batch(ops: BatchOp[]): Promise<void> {
    this.db
      .transaction(() => {
        for (const op of ops) {
          if (op.op === "put") this.putSync(op.collection, op.key, op.value, op.expectedRevision);
          else this.deleteSync(op.collection, op.key, op.prefix);
        }
      })
      .immediate();
  }

  async close(): Promise<void> {
    // The database handle is shared with the log store; the owner closes it.
  }
}
