/**
 * The function registry: create, read, update, delete $LATEST, and the state machine
 * Pending -> Active | Failed, LastUpdateStatus InProgress -> Successful | Failed.
 * Every write is a compare-and-set on the record's store revision, so concurrent updates never
 * silently overwrite each other, and a crash leaves either the old record or the new one.
 */
import { KilnError, conflict, notFound, revisionId, type Clock, type Logger } from "../base/index.js";
import { RevisionMismatchError, type MetadataStore, type Versioned } from "../store/index.js";
import { functionArn, type FunctionRef } from "./names.js";
import * as L from "./limits.js";
import { combinedSizeError } from "./layers.js";
import type { FunctionLayer, FunctionRecord, ResolutionPlan, ResolvedFunction, SnapshotCreator } from "./types.js";
import type { CreateFunctionInput, ConfigurationInput, UpdateCodeInput } from "./validation.js";
import { FunctionVersions, isVersionNumber } from "./versions.js";
import { FunctionAliases } from "./aliases.js";
import { ConcurrencyConfigs } from "./concurrency.js";
import { FunctionTags } from "./tags.js";
import { routesToAdditional } from "./routing.js";
import { ALIASES, META, PROVISIONED, VERSIONS } from "./collections.js";

const FUNCTIONS = "functions";

/** Where code packages live (the artifacts component's CodeStore satisfies this). */
export interface CodePackages {
  put(zip: Buffer): Promise<{ sha256: string; size: number; unzippedBytes: number }>;
}

/**
 * What changed, for the invoke path's caches and environments: $LATEST ("updated"), the whole
 * function ("deleted"), one published version ("version-deleted"), an alias, or concurrency settings.
 */
export type FunctionChange =
  | { kind: "updated" | "deleted"; accountId: string; name: string }
  | { kind: "version-deleted"; accountId: string; name: string; version: string }
  | { kind: "alias"; accountId: string; name: string; alias: string }
  | { kind: "concurrency"; accountId: string; name: string; reserved?: number; provisioned: number }
  | { kind: "provisioned"; accountId: string; name: string };

export interface FunctionRegistryDeps {
  metadata: MetadataStore;
  code: CodePackages;
  clock: Clock;
  region: string;
  log: Logger;
  /** The account concurrency limit (reserved concurrency must leave 100 of it unreserved). */
  accountConcurrency?: number;
  /** Resolves `Layers` to pinned packages (the LayerRegistry); without it, functions take no layers. */
  layers?: { resolveForFunction(accountId: string, arns: string[]): Promise<FunctionLayer[]> };
  /** Makes SnapStart snapshots of published versions; without it, their SnapStart is Off ("Unavailable"). */
  snapshots?: SnapshotCreator;
}

const key = (accountId: string, name: string): string => `${accountId}/${name}`;

export class FunctionRegistry {
  private readonly listeners: Array<(c: FunctionChange) => void> = [];
  private readonly activations = new Set<Promise<void>>();
  readonly versions: FunctionVersions;
  readonly aliases: FunctionAliases;
  readonly concurrency: ConcurrencyConfigs;
  readonly tags: FunctionTags;

  constructor(private readonly deps: FunctionRegistryDeps) {
    this.versions = new FunctionVersions(this, deps);
    this.aliases = new FunctionAliases(this, deps);
    this.concurrency = new ConcurrencyConfigs(this, deps);
    this.tags = new FunctionTags(this, deps);
  }

  onChange(listener: (c: FunctionChange) => void): void {
    this.listeners.push(listener);
  }

  emit(c: FunctionChange): void {
    for (const l of this.listeners) l(c);
  }

  arn(accountId: string, name: string, qualifier?: string): string {
    return functionArn(this.deps.region, accountId, name, qualifier);
  }

  /** Throws the AWS not-found error unless the ref belongs to this account and region. */
  checkRef(accountId: string, ref: FunctionRef, qualifier?: string): void {
    if (ref.region !== undefined && ref.region !== this.deps.region) {
      throw notFound(`Functions from '${ref.region}' are not reachable in this region ('${this.deps.region}')`);
    }
    if (ref.accountId !== undefined && ref.accountId !== accountId) {
      throw notFound(`Function not found: ${functionArn(this.deps.region, ref.accountId, ref.name, qualifier)}`);
    }
  }

  /** The $LATEST record with its store revision; not found names `qualifier` in the ARN. */
  async load(accountId: string, ref: FunctionRef, qualifier?: string): Promise<Versioned<FunctionRecord>> {
    this.checkRef(accountId, ref, qualifier);
    const found = await this.deps.metadata.get<FunctionRecord>(FUNCTIONS, key(accountId, ref.name));
    if (!found) throw notFound(`Function not found: ${this.arn(accountId, ref.name, qualifier)}`);
    return found;
  }

  /** The record `qualifier` names: $LATEST (none or "$LATEST"), a published version, or the version an alias points to. */
  async get(accountId: string, ref: FunctionRef, qualifier?: string): Promise<FunctionRecord> {
    const latest = (await this.load(accountId, ref, qualifier)).value;
    if (qualifier === undefined || qualifier === "$LATEST") return latest;
    return (await this.resolvePlan(accountId, ref, qualifier)).primary.record;
  }

  private async resolveLayers(accountId: string, arns: string[] | undefined): Promise<FunctionLayer[] | undefined> {
    if (arns === undefined) return undefined;
    if (arns.length === 0) return [];
    if (!this.deps.layers) throw new KilnError("InvalidParameterValueException", "Layers are not supported by this Kiln server.");
    return this.deps.layers.resolveForFunction(accountId, arns);
  }

  async create(accountId: string, input: CreateFunctionInput): Promise<FunctionRecord> {
    const existing = await this.deps.metadata.get<FunctionRecord>(FUNCTIONS, key(accountId, input.name));
    if (existing) throw conflict(`Function already exist: ${input.name}`);
    const layers = (await this.resolveLayers(accountId, input.layers)) ?? [];
    const code = await this.deps.code.put(input.zipFile);
    if (code.unzippedBytes > L.UNZIPPED_MAX_BYTES) throw new KilnError("InvalidParameterValueException", `Unzipped size must be smaller than ${L.UNZIPPED_MAX_BYTES} bytes`);
    const tooLarge = combinedSizeError(code.unzippedBytes, layers, L.UNZIPPED_MAX_BYTES);
    if (tooLarge) throw tooLarge;
    const rec: FunctionRecord = {
      accountId,
      name: input.name,
      version: "$LATEST",
      runtime: input.runtime,
      handler: input.handler,
      role: input.role,
      description: input.description ?? "",
      timeout: input.timeout ?? L.DEFAULT_TIMEOUT_S,
      memorySize: input.memorySize ?? L.DEFAULT_MEMORY_MB,
      environment: input.environment ?? {},
      architectures: input.architectures,
      ephemeralStorageSize: input.ephemeralStorageSize ?? 512,
      packageType: "Zip",
      tracingMode: input.tracingMode ?? "PassThrough",
      logFormat: input.logFormat ?? "Text",
      logGroup: input.logGroup ?? `/aws/lambda/${input.name}`,
      codeSha256: code.sha256,
      codeSize: code.size,
      state: "Pending",
      stateReason: "The function is being created.",
      stateReasonCode: "Creating",
      lastUpdateStatus: "InProgress",
      lastModified: this.deps.clock.now(),
      revisionId: revisionId(),
      tags: input.tags,
      ...(input.deadLetterTargetArn ? { deadLetterTargetArn: input.deadLetterTargetArn } : {}),
      layers,
      codeUnzippedSize: code.unzippedBytes,
      ...(input.snapStart === "PublishedVersions" ? { snapStart: "PublishedVersions" as const } : {}),
    };
    try {
      await this.deps.metadata.put(FUNCTIONS, key(accountId, input.name), rec, 0);
    } catch (e) {
      if (e instanceof RevisionMismatchError) throw conflict(`Function already exist: ${input.name}`);
      throw e;
    }
    this.scheduleActivation(accountId, input.name);
    return rec;
  }

  /**
   * Finishes a pending create or update off the request path. The code was unpacked and checked
   * before the record was written, so what remains is the state transition itself.
   */
  private scheduleActivation(accountId: string, name: string): void {
    const p = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.activate(accountId, name))
      .catch((e: unknown) => this.deps.log.error("activation failed", { accountId, name, error: String(e) }))
      .finally(() => this.activations.delete(p));
    this.activations.add(p);
  }

  private async activate(accountId: string, name: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const cur = await this.deps.metadata.get<FunctionRecord>(FUNCTIONS, key(accountId, name));
      if (!cur) return;
      const rec = { ...cur.value };
      if (rec.state !== "Pending" && rec.lastUpdateStatus !== "InProgress") return;
      if (rec.state === "Pending") {
        rec.state = "Active";
        delete rec.stateReason;
        delete rec.stateReasonCode;
      }
      rec.lastUpdateStatus = "Successful";
      delete rec.lastUpdateStatusReason;
      delete rec.lastUpdateStatusReasonCode;
      try {
        await this.deps.metadata.put(FUNCTIONS, key(accountId, name), rec, cur.revision);
        this.emit({ kind: "updated", accountId, name });
        return;
      } catch (e) {
        if (!(e instanceof RevisionMismatchError)) throw e;
      }
    }
  }

  /** Runs `job` off the request path (a version's snapshot); settled() waits for it too. */
  background(what: string, job: () => Promise<void>): void {
    const p = new Promise<void>((resolve) => setImmediate(resolve))
      .then(job)
      .catch((e: unknown) => this.deps.log.error(`${what} failed`, { error: String(e) }))
      .finally(() => this.activations.delete(p));
    this.activations.add(p);
  }

  /** Resolves when every scheduled state transition has happened (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.activations.size > 0) await Promise.all([...this.activations]);
  }

  /** Completes transitions interrupted by a restart. */
  async recover(): Promise<number> {
    let after: string | undefined;
    let n = 0;
    do {
      const page = await this.deps.metadata.list<FunctionRecord>(FUNCTIONS, "", after === undefined ? { limit: 500 } : { after, limit: 500 });
      for (const { value } of page.items) {
        if (value.state === "Pending" || value.lastUpdateStatus === "InProgress") {
          this.scheduleActivation(value.accountId, value.name);
          n++;
        }
      }
      after = page.next;
    } while (after !== undefined);
    return n + (await this.versions.recover());
  }

  private async mutate(
    accountId: string,
    ref: FunctionRef,
    expectedRevisionId: string | undefined,
    change: (rec: FunctionRecord) => FunctionRecord,
  ): Promise<FunctionRecord> {
    const cur = await this.load(accountId, ref);
    if (expectedRevisionId !== undefined && expectedRevisionId !== cur.value.revisionId) {
      throw new KilnError(
        "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
      );
    }
    if (cur.value.lastUpdateStatus === "InProgress" || cur.value.state === "Pending") {
      throw conflict(`The operation cannot be performed at this time. An update is in progress for resource: ${this.arn(accountId, ref.name)}`);
    }
    const next = change({ ...cur.value });
    next.lastModified = this.deps.clock.now();
    next.revisionId = revisionId();
    next.lastUpdateStatus = "InProgress";
    next.lastUpdateStatusReason = "The function is being created.";
    next.lastUpdateStatusReasonCode = "Creating";
    try {
      await this.deps.metadata.put(FUNCTIONS, key(accountId, ref.name), next, cur.revision);
    } catch (e) {
      if (e instanceof RevisionMismatchError) {
        throw conflict(`The operation cannot be performed at this time. An update is in progress for resource: ${this.arn(accountId, ref.name)}`);
      }
      throw e;
    }
    this.scheduleActivation(accountId, ref.name);
    return next;
  }

  async updateCode(accountId: string, ref: FunctionRef, input: UpdateCodeInput): Promise<FunctionRecord> {
    const cur = await this.get(accountId, ref);
    if (input.revisionId !== undefined && input.revisionId !== cur.revisionId) {
      throw new KilnError(
        "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
      );
    }
    const code = await this.deps.code.put(input.zipFile);
    const tooLarge = combinedSizeError(code.unzippedBytes, cur.layers ?? [], L.UNZIPPED_MAX_BYTES);
    if (tooLarge) throw tooLarge;
    if (input.dryRun) return { ...cur, codeSha256: code.sha256, codeSize: code.size };
    return this.mutate(accountId, ref, input.revisionId, (rec) => ({ ...rec, codeSha256: code.sha256, codeSize: code.size, codeUnzippedSize: code.unzippedBytes }));
  }

  async updateConfiguration(accountId: string, ref: FunctionRef, input: ConfigurationInput): Promise<FunctionRecord> {
    let layers: FunctionLayer[] | undefined;
    if (input.layers !== undefined) {
      const cur = await this.get(accountId, ref);
      layers = await this.resolveLayers(accountId, input.layers);
      const tooLarge = combinedSizeError(cur.codeUnzippedSize, layers ?? [], L.UNZIPPED_MAX_BYTES);
      if (tooLarge) throw tooLarge;
    }
    return this.mutate(accountId, ref, input.revisionId, (rec) => {
      const next = { ...rec };
      if (input.runtime !== undefined) next.runtime = input.runtime;
      if (input.handler !== undefined) next.handler = input.handler;
      if (input.role !== undefined) next.role = input.role;
      if (input.description !== undefined) next.description = input.description;
      if (input.timeout !== undefined) next.timeout = input.timeout;
      if (input.memorySize !== undefined) next.memorySize = input.memorySize;
      if (input.environment !== undefined) next.environment = input.environment;
      if (input.ephemeralStorageSize !== undefined) next.ephemeralStorageSize = input.ephemeralStorageSize;
      if (input.tracingMode !== undefined) next.tracingMode = input.tracingMode;
      if (input.logFormat !== undefined) next.logFormat = input.logFormat;
      if (input.logGroup !== undefined) next.logGroup = input.logGroup;
      if (input.deadLetterTargetArn === "") delete next.deadLetterTargetArn;
      else if (input.deadLetterTargetArn !== undefined) next.deadLetterTargetArn = input.deadLetterTargetArn;
      if (layers !== undefined) next.layers = layers;
      if (input.snapStart === "PublishedVersions") next.snapStart = "PublishedVersions";
      else if (input.snapStart === "None") delete next.snapStart;
      return next;
    });
  }

  /** Deletes the function with every version, alias and concurrency setting; or, with a qualifier, one version. */
  async delete(accountId: string, ref: FunctionRef, qualifier?: string): Promise<void> {
    if (qualifier === "$LATEST") throw new KilnError("InvalidParameterValueException", "$LATEST version cannot be deleted without deleting the function.");
    if (qualifier !== undefined) return this.versions.delete(accountId, ref, qualifier);
    await this.load(accountId, ref, qualifier);
    const prefix = `${key(accountId, ref.name)}/`;
    const snapshots = await this.versions.snapshotIds(accountId, ref.name);
    await this.deps.metadata.batch([
      { op: "delete", collection: FUNCTIONS, key: key(accountId, ref.name) },
      { op: "delete", collection: VERSIONS, key: prefix, prefix: true },
      { op: "delete", collection: ALIASES, key: prefix, prefix: true },
      { op: "delete", collection: PROVISIONED, key: prefix, prefix: true },
      { op: "delete", collection: META, key: key(accountId, ref.name) },
    ]);
    this.emit({ kind: "deleted", accountId, name: ref.name });
    await Promise.all(snapshots.map((id) => this.versions.removeSnapshot(id)));
  }

  async list(accountId: string, marker: string | undefined, maxItems: number): Promise<{ functions: FunctionRecord[]; nextMarker?: string }> {
    const page = await this.deps.metadata.list<FunctionRecord>(FUNCTIONS, `${accountId}/`, {
      limit: maxItems,
      ...(marker ? { after: `${accountId}/${Buffer.from(marker, "base64url").toString()}` } : {}),
    });
    const out: { functions: FunctionRecord[]; nextMarker?: string } = { functions: page.items.map((i) => i.value) };
    if (page.next) out.nextMarker = Buffer.from(page.next.slice(accountId.length + 1)).toString("base64url");
    return out;
  }

  async usage(accountId: string): Promise<{ functionCount: number; totalCodeSize: number }> {
    let functionCount = 0;
    let totalCodeSize = 0;
    let marker: string | undefined;
    do {
      const page = await this.list(accountId, marker, 500);
      for (const f of page.functions) {
        functionCount++;
        totalCodeSize += f.codeSize;
      }
      marker = page.nextMarker;
    } while (marker !== undefined);
    return { functionCount, totalCodeSize: totalCodeSize + (await this.versions.codeSize(accountId)) };
  }

  /**
   * What the invoke path runs for `ref` (+ qualifier): an alias with a routing configuration picks
   * its additional version with probability `weight` (`random` is injected for tests).
   */
  async resolve(accountId: string, ref: FunctionRef, qualifier?: string, random: () => number = Math.random): Promise<ResolvedFunction> {
    const plan = await this.resolvePlan(accountId, ref, qualifier);
    return plan.additional && routesToAdditional(plan.additional.weight, random) ? plan.additional.fn : plan.primary;
  }

  /** How invokes of `ref` (+ qualifier) choose their version: $LATEST, a version, or an alias (maybe weighted). */
  async resolvePlan(accountId: string, ref: FunctionRef, qualifier?: string): Promise<ResolutionPlan> {
    const invokedArn = this.arn(accountId, ref.name, qualifier);
    if (qualifier === undefined || qualifier === "$LATEST") {
      return { primary: this.resolved((await this.load(accountId, ref, qualifier)).value, invokedArn) };
    }
    if (isVersionNumber(qualifier)) {
      await this.load(accountId, ref, qualifier);
      return { primary: this.resolved(await this.versions.get(accountId, ref.name, qualifier), invokedArn) };
    }
    const latest = (await this.load(accountId, ref, qualifier)).value;
    const alias = await this.aliases.find(accountId, ref.name, qualifier);
    if (!alias) throw notFound(`Function not found: ${invokedArn}`);
    const recordOf = async (version: string) => (version === "$LATEST" ? latest : this.versions.get(accountId, ref.name, version));
    const plan: ResolutionPlan = { primary: this.resolved(await recordOf(alias.functionVersion), invokedArn) };
    if (alias.additionalVersion) {
      plan.additional = { fn: this.resolved(await recordOf(alias.additionalVersion.version), invokedArn), weight: alias.additionalVersion.weight };
    }
    return plan;
  }

  private resolved(rec: FunctionRecord, invokedArn: string): ResolvedFunction {
    return { record: rec, executedVersion: rec.version, invokedArn, configKey: `${rec.accountId}/${rec.name}/${rec.version}/${rec.revisionId}` };
  }
}
