/**
 * Function URL configurations: one per function qualifier (`$LATEST` for the unqualified function,
 * or an alias), each with a random 32-character url-id that names it on the data path.
 *
 * Two collections, written together in one batch: the configuration under
 * `<account>/<function>/<qualifier>`, and the url-id index (url-id -> that key) the function URL
 * gateway reads on every request. A deleted function takes its URL configurations with it.
 */
import { randomBytes } from "node:crypto";
import { KilnError, conflict, isKilnError, notFound, type Clock } from "../base/index.js";
import { RevisionMismatchError, type MetadataStore } from "../store/index.js";
import type { FunctionUrlInput } from "./function-url-validation.js";
import { UNQUALIFIED } from "./function-url-validation.js";
import { functionArn, type FunctionRef } from "./names.js";
import type { FunctionRecord, FunctionUrlRecord } from "./types.js";

const URLS = "function-urls";
const URL_IDS = "function-url-ids";
const NO_FUNCTION = "Function does not exist";
const NO_RESOURCE = "The resource you requested does not exist.";

export interface FunctionUrlRegistryDeps {
  metadata: MetadataStore;
  clock: Clock;
  region: string;
  /** The function registry (or anything that finds a function's $LATEST the same way). */
  functions: { get(accountId: string, ref: FunctionRef): Promise<FunctionRecord> };
  /** Whether an alias exists; until aliases exist in Kiln, none does. */
  aliasExists?(accountId: string, functionName: string, alias: string): Promise<boolean>;
}

const configKey = (accountId: string, name: string, qualifier: string): string => `${accountId}/${name}/${qualifier}`;

const URL_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
/** 32 lowercase letters and digits, like AWS's url-ids. */
export function newUrlId(): string {
  const bytes = randomBytes(32);
  let out = "";
  for (const b of bytes) out += URL_ID_ALPHABET[b % URL_ID_ALPHABET.length];
  return out;
}

export class FunctionUrlRegistry {
  constructor(private readonly deps: FunctionUrlRegistryDeps) {}

  /** The ARN a URL configuration reports: unqualified for $LATEST, else qualified with the alias. */
  functionArn(rec: Pick<FunctionUrlRecord, "accountId" | "functionName" | "qualifier">): string {
    return functionArn(this.deps.region, rec.accountId, rec.functionName, rec.qualifier === UNQUALIFIED ? undefined : rec.qualifier);
  }

  /** The function's name, or ResourceNotFoundException with `message` (each operation words it its own way). */
  private async functionName(accountId: string, ref: FunctionRef, message: string): Promise<string> {
    try {
      return (await this.deps.functions.get(accountId, ref)).name;
    } catch (e) {
      if (isKilnError(e) && e.code === "ResourceNotFoundException") throw notFound(message);
      throw e;
    }
  }

  private async checkAlias(accountId: string, name: string, qualifier: string): Promise<void> {
    if (qualifier === UNQUALIFIED) return;
    const exists = (await this.deps.aliasExists?.(accountId, name, qualifier)) ?? false;
    if (!exists) throw notFound(NO_FUNCTION);
  }

  async create(accountId: string, ref: FunctionRef, qualifier: string, input: FunctionUrlInput): Promise<FunctionUrlRecord> {
    const name = await this.functionName(accountId, ref, NO_FUNCTION);
    const key = configKey(accountId, name, qualifier);
    const conflictError = (): KilnError =>
      conflict(`Failed to create function url config for [functionArn = ${this.functionArn({ accountId, functionName: name, qualifier })}]. Error message:  FunctionUrlConfig exists for this Lambda function`);
    if (await this.deps.metadata.get(URLS, key)) throw conflictError();
    await this.checkAlias(accountId, name, qualifier);
    const now = this.deps.clock.now();
    const rec: FunctionUrlRecord = {
      urlId: newUrlId(),
      accountId,
      functionName: name,
      qualifier,
      authType: input.authType ?? "NONE",
      invokeMode: input.invokeMode ?? "BUFFERED",
      creationTime: now,
      lastModifiedTime: now,
    };
    if (input.cors !== undefined) rec.cors = input.cors;
    try {
      await this.deps.metadata.batch([
        { op: "put", collection: URLS, key, value: rec, expectedRevision: 0 },
        { op: "put", collection: URL_IDS, key: rec.urlId, value: { key }, expectedRevision: 0 },
      ]);
    } catch (e) {
      if (e instanceof RevisionMismatchError) throw conflictError();
      throw e;
    }
    return rec;
  }

  async get(accountId: string, ref: FunctionRef, qualifier: string): Promise<FunctionUrlRecord> {
    const name = await this.functionName(accountId, ref, NO_RESOURCE);
    const found = await this.deps.metadata.get<FunctionUrlRecord>(URLS, configKey(accountId, name, qualifier));
    if (!found) throw notFound(NO_RESOURCE);
    return found.value;
  }

  async update(accountId: string, ref: FunctionRef, qualifier: string, input: FunctionUrlInput): Promise<FunctionUrlRecord> {
    const name = await this.functionName(accountId, ref, NO_FUNCTION);
    await this.checkAlias(accountId, name, qualifier);
    const key = configKey(accountId, name, qualifier);
    for (let attempt = 0; ; attempt++) {
      const cur = await this.deps.metadata.get<FunctionUrlRecord>(URLS, key);
      if (!cur) throw notFound(NO_RESOURCE);
      const next: FunctionUrlRecord = { ...cur.value, lastModifiedTime: this.deps.clock.now() };
      if (input.authType !== undefined) next.authType = input.authType;
      if (input.invokeMode !== undefined) next.invokeMode = input.invokeMode;
      if (input.cors !== undefined) next.cors = input.cors;
      try {
        await this.deps.metadata.put(URLS, key, next, cur.revision);
        return next;
      } catch (e) {
        if (!(e instanceof RevisionMismatchError) || attempt >= 20) throw e;
      }
    }
  }

  async delete(accountId: string, ref: FunctionRef, qualifier: string): Promise<void> {
    const name = await this.functionName(accountId, ref, NO_RESOURCE);
    const key = configKey(accountId, name, qualifier);
    const found = await this.deps.metadata.get<FunctionUrlRecord>(URLS, key);
    if (!found) throw notFound(NO_RESOURCE);
    await this.deps.metadata.batch([
      { op: "delete", collection: URLS, key },
      { op: "delete", collection: URL_IDS, key: found.value.urlId },
    ]);
  }

  /** In qualifier order; the marker is the last qualifier returned. */
  async list(accountId: string, ref: FunctionRef, marker: string | undefined, maxItems: number): Promise<{ configs: FunctionUrlRecord[]; nextMarker?: string }> {
    const name = await this.functionName(accountId, ref, NO_FUNCTION);
    const prefix = `${accountId}/${name}/`;
    const page = await this.deps.metadata.list<FunctionUrlRecord>(URLS, prefix, {
      limit: maxItems,
      ...(marker ? { after: prefix + Buffer.from(marker, "base64url").toString() } : {}),
    });
    const out: { configs: FunctionUrlRecord[]; nextMarker?: string } = { configs: page.items.map((i) => i.value) };
    if (page.next !== undefined) out.nextMarker = Buffer.from(page.next.slice(prefix.length)).toString("base64url");
    return out;
  }

  /** The configuration a url-id names, for the data path; undefined when there is none. */
  async byUrlId(urlId: string): Promise<FunctionUrlRecord | undefined> {
    const ref = await this.deps.metadata.get<{ key: string }>(URL_IDS, urlId);
    if (!ref) return undefined;
    return (await this.deps.metadata.get<FunctionUrlRecord>(URLS, ref.value.key))?.value;
  }

  /** Removes every URL configuration of a deleted function. */
  async removeFunction(accountId: string, functionName: string): Promise<void> {
    const prefix = `${accountId}/${functionName}/`;
    const page = await this.deps.metadata.list<FunctionUrlRecord>(URLS, prefix, { limit: 1000 });
    if (page.items.length === 0) return;
    await this.deps.metadata.batch([
      ...page.items.map((i) => ({ op: "delete" as const, collection: URL_IDS, key: i.value.urlId })),
      { op: "delete", collection: URLS, key: prefix, prefix: true },
    ]);
  }
}
