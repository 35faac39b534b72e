/**
 * Aliases: named pointers to a version ($LATEST or a published one), optionally sending a share of
 * invokes to one additional published version (RoutingConfig.AdditionalVersionWeights).
 * Validation follows AWS's order and messages (routing.ts holds the pure routing checks); every
 * write shares the $LATEST guard described in versions.ts, so an alias never outlives its function
 * or points at a version deleted at the same moment.
 */
import { KilnError, conflict, invalidParameter, notFound, revisionId, validation } from "../base/index.js";
import { RevisionMismatchError, type MetadataStore } from "../store/index.js";
import { functionArn, type FunctionRef } from "./names.js";
import { ALIASES, FUNCTIONS, PROVISIONED } from "./collections.js";
import { parseRoutingConfig, checkRouting, type RoutingEntry } from "./routing.js";
import { REVISION_MISMATCH } from "./versions.js";
import type { AliasRecord } from "./types.js";
import type { FunctionRegistry } from "./functions.js";

/** Alias names: letters, digits, '-' and '_', never all digits (those are versions). */
export const ALIAS_NAME_PATTERN = /^(?!^[0-9]+$)[a-zA-Z0-9-_]{1,128}$/;
export const FUNCTION_VERSION_PATTERN = /^(\$LATEST|[0-9]{1,1024})$/;
export const ALIAS_DESCRIPTION_MAX = 256;

type Json = Record<string, unknown>;

const nullAt = (field: string): KilnError => validation(`1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`);

export function validateAliasName(name: unknown): string {
  if (name === undefined || name === null) throw nullAt("name");
  if (typeof name !== "string" || !ALIAS_NAME_PATTERN.test(name)) {
    throw validation(
      `1 validation error detected: Value '${String(name)}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)`,
    );
  }
  return name;
}

export function validateFunctionVersion(v: unknown, required: boolean): string | undefined {
  if (v === undefined || v === null) {
    if (required) throw nullAt("functionVersion");
    return undefined;
  }
  if (typeof v !== "string" || !FUNCTION_VERSION_PATTERN.test(v)) {
    throw validation(
      `1 validation error detected: Value '${String(v)}' at 'functionVersion' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)`,
    );
  }
  return v;
}

function description(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw invalidParameter(`Invalid type for parameter Description, value: ${JSON.stringify(v)}, valid types: string`);
  if (v.length > ALIAS_DESCRIPTION_MAX) {
    throw validation(`1 validation error detected: Value '${v}' at 'description' failed to satisfy constraint: Member must have length less than or equal to ${ALIAS_DESCRIPTION_MAX}`);
  }
  return v;
}

export function toAliasConfiguration(a: AliasRecord, region: string): Record<string, unknown> {
  const out: Record<string, unknown> = {
    AliasArn: functionArn(region, a.accountId, a.functionName, a.name),
    Name: a.name,
    FunctionVersion: a.functionVersion,
    Description: a.description,
    RevisionId: a.revisionId,
  };
  if (a.additionalVersion) out.RoutingConfig = { AdditionalVersionWeights: { [a.additionalVersion.version]: a.additionalVersion.weight } };
  return out;
}

const aliasKey = (accountId: string, fn: string, alias: string): string => `${accountId}/${fn}/${alias}`;

interface Deps {
  metadata: MetadataStore;
}

export class FunctionAliases {
  constructor(private readonly registry: FunctionRegistry, private readonly deps: Deps) {}

  private missing(accountId: string, fn: string, alias: string): KilnError {
    return notFound(`Cannot find alias arn: ${this.registry.arn(accountId, fn, alias)}`);
  }

  async find(accountId: string, fn: string, alias: string): Promise<AliasRecord | undefined> {
    if (!ALIAS_NAME_PATTERN.test(alias)) return undefined;
    return (await this.deps.metadata.get<AliasRecord>(ALIASES, aliasKey(accountId, fn, alias)))?.value;
  }

  async get(accountId: string, ref: FunctionRef, alias: string): Promise<AliasRecord> {
    await this.registry.load(accountId, ref);
    const found = await this.find(accountId, ref.name, alias);
    if (!found) throw this.missing(accountId, ref.name, alias);
    return found;
  }

  /** The routing entry, checked against the primary version and the versions that exist. */
  private async routing(accountId: string, fn: string, primary: string, weights: Json): Promise<RoutingEntry | undefined> {
    const entry = checkRouting(primary, weights);
    if (entry && !(await this.registry.versions.exists(accountId, fn, entry.version))) {
      throw notFound(`Function not found: ${this.registry.arn(accountId, fn, entry.version)}`);
    }
    return entry;
  }

  private async versionExists(accountId: string, fn: string, version: string): Promise<void> {
    if (version !== "$LATEST" && !(await this.registry.versions.exists(accountId, fn, version))) {
      throw notFound(`Function not found: ${this.registry.arn(accountId, fn, version)}`);
    }
  }

  async create(accountId: string, ref: FunctionRef, body: Json): Promise<AliasRecord> {
    const name = validateAliasName(body.Name);
    const version = validateFunctionVersion(body.FunctionVersion, true)!;
    const desc = description(body.Description) ?? "";
    const weights = parseRoutingConfig(body.RoutingConfig);
    for (let attempt = 0; attempt < 8; attempt++) {
      const latest = await this.registry.load(accountId, ref);
      await this.versionExists(accountId, ref.name, version);
      if (await this.find(accountId, ref.name, name)) throw conflict(`Alias already exists: ${this.registry.arn(accountId, ref.name, name)}`);
      const entry = weights ? await this.routing(accountId, ref.name, version, weights) : undefined;
      const rec: AliasRecord = { accountId, functionName: ref.name, name, functionVersion: version, description: desc, revisionId: revisionId() };
      if (entry) rec.additionalVersion = entry;
      try {
        await this.deps.metadata.batch([
          { op: "put", collection: FUNCTIONS, key: `${accountId}/${ref.name}`, value: latest.value, expectedRevision: latest.revision },
          { op: "put", collection: ALIASES, key: aliasKey(accountId, ref.name, name), value: rec, expectedRevision: 0 },
        ]);
      } catch (e) {
        if (e instanceof RevisionMismatchError) continue;
        throw e;
      }
      this.registry.emit({ kind: "alias", accountId, name: ref.name, alias: name });
      return rec;
    }
    throw this.busy(accountId, ref.name);
  }

  async update(accountId: string, ref: FunctionRef, name: string, body: Json): Promise<AliasRecord> {
    const version = validateFunctionVersion(body.FunctionVersion, false);
    const desc = description(body.Description);
    const weights = body.RoutingConfig === undefined || body.RoutingConfig === null ? undefined : (parseRoutingConfig(body.RoutingConfig) ?? {});
    const expected = body.RevisionId;
    if (expected !== undefined && expected !== null && typeof expected !== "string") throw invalidParameter("Invalid type for parameter RevisionId, valid types: string");
    for (let attempt = 0; attempt < 8; attempt++) {
      const latest = await this.registry.load(accountId, ref);
      const cur = await this.deps.metadata.get<AliasRecord>(ALIASES, aliasKey(accountId, ref.name, name));
      if (!cur || !ALIAS_NAME_PATTERN.test(name)) throw this.missing(accountId, ref.name, name);
      if (typeof expected === "string" && expected !== cur.value.revisionId) throw new KilnError("PreconditionFailedException", REVISION_MISMATCH);
      const next: AliasRecord = { ...cur.value, revisionId: revisionId() };
      if (version !== undefined) {
        await this.versionExists(accountId, ref.name, version);
        next.functionVersion = version;
      }
      if (desc !== undefined) next.description = desc;
      const routing = weights ?? (cur.value.additionalVersion ? { [cur.value.additionalVersion.version]: cur.value.additionalVersion.weight } : undefined);
      delete next.additionalVersion;
      const entry = routing ? await this.routing(accountId, ref.name, next.functionVersion, routing) : undefined;
      if (entry) next.additionalVersion = entry;
      try {
        await this.deps.metadata.batch([
          { op: "put", collection: FUNCTIONS, key: `${accountId}/${ref.name}`, value: latest.value, expectedRevision: latest.revision },
          { op: "put", collection: ALIASES, key: aliasKey(accountId, ref.name, name), value: next, expectedRevision: cur.revision },
        ]);
      } catch (e) {
        if (e instanceof RevisionMismatchError) continue;
        throw e;
      }
      this.registry.emit({ kind: "alias", accountId, name: ref.name, alias: name });
      if (await this.registry.concurrency.findProvisioned(accountId, ref.name, name)) await this.registry.concurrency.announce(accountId, ref.name);
      return next;
    }
    throw this.busy(accountId, ref.name);
  }

  /** Deletes an alias and its provisioned concurrency configuration. */
  async delete(accountId: string, ref: FunctionRef, name: string): Promise<void> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const latest = await this.registry.load(accountId, ref);
      if (!(await this.find(accountId, ref.name, name))) throw this.missing(accountId, ref.name, name);
      const hadProvisioned = await this.registry.concurrency.findProvisioned(accountId, ref.name, name);
      try {
        await this.deps.metadata.batch([
          { op: "put", collection: FUNCTIONS, key: `${accountId}/${ref.name}`, value: latest.value, expectedRevision: latest.revision },
          { op: "delete", collection: ALIASES, key: aliasKey(accountId, ref.name, name) },
          { op: "delete", collection: PROVISIONED, key: aliasKey(accountId, ref.name, name) },
        ]);
      } catch (e) {
        if (e instanceof RevisionMismatchError) continue;
        throw e;
      }
      this.registry.emit({ kind: "alias", accountId, name: ref.name, alias: name });
      if (hadProvisioned) await this.registry.concurrency.announce(accountId, ref.name);
      return;
    }
    throw this.busy(accountId, ref.name);
  }

  /** Aliases of a function (optionally only those whose primary version is `functionVersion`), a page at a time. */
  async list(
    accountId: string,
    ref: FunctionRef,
    opts: { functionVersion?: string; marker?: string; maxItems: number },
  ): Promise<{ aliases: AliasRecord[]; nextMarker?: string }> {
    await this.registry.load(accountId, ref);
    let all = await this.all(accountId, ref.name);
    if (opts.functionVersion !== undefined) all = all.filter((a) => a.functionVersion === opts.functionVersion);
    let start = 0;
    if (opts.marker) {
      const after = Buffer.from(opts.marker, "base64url").toString();
      start = all.findIndex((a) => a.name > after);
      if (start < 0) start = all.length;
    }
    const page = all.slice(start, start + opts.maxItems);
    const out: { aliases: AliasRecord[]; nextMarker?: string } = { aliases: page };
    if (start + opts.maxItems < all.length && page.length > 0) out.nextMarker = Buffer.from(page[page.length - 1]!.name).toString("base64url");
    return out;
  }

  /** Every alias of a function, by name. */
  async all(accountId: string, fn: string): Promise<AliasRecord[]> {
    const out: AliasRecord[] = [];
    let after: string | undefined;
    do {
      const page = await this.deps.metadata.list<AliasRecord>(ALIASES, `${accountId}/${fn}/`, after === undefined ? { limit: 500 } : { after, limit: 500 });
      out.push(...page.items.map((i) => i.value));
      after = page.next;
    } while (after !== undefined);
    return out;
  }

  private busy(accountId: string, fn: string): KilnError {
    return conflict(`The operation cannot be performed at this time. An update is in progress for resource: ${this.registry.arn(accountId, fn)}`);
  }
}
