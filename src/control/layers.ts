/**
 * The layer registry: PublishLayerVersion, Get/List/Delete, and the resolution of a function's
 * `Layers` into pinned packages.
 *
 * Layer versions are immutable and numbered per layer name per account, 1, 2, 3, ... and numbers
 * are never reused, even after a delete: the layer's document holds the next number, and a publish
 * writes the bumped counter and the new version in one compare-and-set batch. A function pins the
 * CodeSha256 of each layer it references, so deleting a layer version never breaks a function that
 * already uses it (as on AWS); the package stays in the content-addressed code store.
 *
 * Layers are private to their account: Kiln has no layer permissions (AddLayerVersionPermission),
 * so another account's layer ARN gets AWS's AccessDeniedException.
 */
import { KilnError, invalidParameter, type Clock } from "../base/index.js";
import { RevisionMismatchError, type MetadataStore } from "../store/index.js";
import type { CodePackages } from "./functions.js";
import {
  layerArn,
  layerVersionArn,
  parseLayerVersionArn,
  type LayerListFilters,
  type LayerRef,
  type LayerVersionRef,
  type PublishLayerInput,
} from "./layer-validation.js";
import type { FunctionLayer, LayerVersionRecord } from "./types.js";

const LAYERS = "layers";
const LAYER_VERSIONS = "layer-versions";
const NOT_FOUND = "The resource you requested does not exist.";

interface LayerDocument {
  accountId: string;
  layerName: string;
  nextVersion: number;
}

export interface LayerRegistryDeps {
  metadata: MetadataStore;
  code: CodePackages;
  clock: Clock;
  region: string;
}

const layerKey = (accountId: string, name: string): string => `${accountId}/${name}`;
const versionKey = (accountId: string, name: string, version: number): string => `${accountId}/${name}/${String(version).padStart(12, "0")}`;

export const accessDenied = (accountId: string, action: string, resource: string): KilnError =>
  new KilnError(
    "AccessDeniedException",
    `User: arn:aws:iam::${accountId}:root is not authorized to perform: lambda:${action} on resource: ${resource} because no resource-based policy allows the lambda:${action} action`,
  );

const matches = (v: LayerVersionRecord, f: { compatibleRuntime?: string; compatibleArchitecture?: string }): boolean =>
  (f.compatibleRuntime === undefined || (v.compatibleRuntimes ?? []).includes(f.compatibleRuntime)) &&
  (f.compatibleArchitecture === undefined || (v.compatibleArchitectures ?? []).includes(f.compatibleArchitecture));

export class LayerRegistry {
  constructor(private readonly deps: LayerRegistryDeps) {}

  get region(): string {
    return this.deps.region;
  }

  /** The caller's own layer, or AWS's refusal: another account's layer is never reachable. */
  private own(accountId: string, ref: LayerRef, action: string, version?: number): string {
    const owner = ref.accountId ?? accountId;
    if (owner !== accountId) {
      const region = ref.region ?? this.deps.region;
      throw accessDenied(accountId, action, version === undefined ? layerArn(region, owner, ref.name) : layerVersionArn(region, owner, ref.name, version));
    }
    if (ref.region !== undefined && ref.region !== this.deps.region) throw new KilnError("ResourceNotFoundException", NOT_FOUND);
    return ref.name;
  }

  async publish(accountId: string, ref: LayerRef, input: PublishLayerInput): Promise<LayerVersionRecord> {
    const name = this.own(accountId, ref, "PublishLayerVersion");
    const code = await this.deps.code.put(input.zipFile);
    for (let attempt = 0; ; attempt++) {
      const cur = await this.deps.metadata.get<LayerDocument>(LAYERS, layerKey(accountId, name));
      const version = cur?.value.nextVersion ?? 1;
      const rec: LayerVersionRecord = {
        accountId,
        layerName: name,
        version,
        description: input.description,
        codeSha256: code.sha256,
        codeSize: code.size,
        unzippedSize: code.unzippedBytes,
        createdDate: this.deps.clock.now(),
      };
      if (input.licenseInfo !== undefined) rec.licenseInfo = input.licenseInfo;
      if (input.compatibleRuntimes !== undefined) rec.compatibleRuntimes = input.compatibleRuntimes;
      if (input.compatibleArchitectures !== undefined) rec.compatibleArchitectures = input.compatibleArchitectures;
      try {
        await this.deps.metadata.batch([
          { op: "put", collection: LAYERS, key: layerKey(accountId, name), value: { accountId, layerName: name, nextVersion: version + 1 }, expectedRevision: cur?.revision ?? 0 },
          { op: "put", collection: LAYER_VERSIONS, key: versionKey(accountId, name, version), value: rec, expectedRevision: 0 },
        ]);
        return rec;
      } catch (e) {
        if (!(e instanceof RevisionMismatchError) || attempt >= 20) throw e;
      }
    }
  }

  async get(accountId: string, ref: LayerRef, version: number): Promise<LayerVersionRecord> {
    const name = this.own(accountId, ref, "GetLayerVersion", version);
    const found = await this.deps.metadata.get<LayerVersionRecord>(LAYER_VERSIONS, versionKey(accountId, name, version));
    if (!found) throw new KilnError("ResourceNotFoundException", NOT_FOUND);
    return found.value;
  }

  async getByArn(accountId: string, ref: LayerVersionRef): Promise<LayerVersionRecord> {
    return this.get(accountId, ref, ref.version);
  }

  /** Deleting is idempotent: a missing version (or layer) is not an error. */
  async delete(accountId: string, ref: LayerRef, version: number): Promise<void> {
    const name = this.own(accountId, ref, "DeleteLayerVersion", version);
    await this.deps.metadata.delete(LAYER_VERSIONS, versionKey(accountId, name, version));
  }

  private async versionsOf(accountId: string, name: string): Promise<LayerVersionRecord[]> {
    const out: LayerVersionRecord[] = [];
    let after: string | undefined;
    do {
      const page = await this.deps.metadata.list<LayerVersionRecord>(LAYER_VERSIONS, `${accountId}/${name}/`, after === undefined ? { limit: 500 } : { after, limit: 500 });
      out.push(...page.items.map((i) => i.value));
      after = page.next;
    } while (after !== undefined);
    return out;
  }

  /** Newest first. The marker is the last version number returned. */
  async listVersions(accountId: string, ref: LayerRef, f: LayerListFilters): Promise<{ versions: LayerVersionRecord[]; nextMarker?: string }> {
    const name = this.own(accountId, ref, "ListLayerVersions");
    let all = (await this.versionsOf(accountId, name)).filter((v) => matches(v, f)).sort((a, b) => b.version - a.version);
    if (f.marker !== undefined) {
      const below = Number(Buffer.from(f.marker, "base64url").toString());
      if (!Number.isInteger(below)) throw invalidParameter("Invalid Marker: pass the NextMarker of the previous page.");
      all = all.filter((v) => v.version < below);
    }
    const versions = all.slice(0, f.maxItems);
    const out: { versions: LayerVersionRecord[]; nextMarker?: string } = { versions };
    if (all.length > f.maxItems) out.nextMarker = Buffer.from(String(versions[versions.length - 1]!.version)).toString("base64url");
    return out;
  }

  /** Each layer with its newest version matching the filters; layers with none are left out. In name order. */
  async list(accountId: string, f: LayerListFilters): Promise<{ layers: Array<{ name: string; latest: LayerVersionRecord }>; nextMarker?: string }> {
    const layers: Array<{ name: string; latest: LayerVersionRecord }> = [];
    let after = f.marker !== undefined ? layerKey(accountId, Buffer.from(f.marker, "base64url").toString()) : undefined;
    for (;;) {
      const page = await this.deps.metadata.list<LayerDocument>(LAYERS, `${accountId}/`, after === undefined ? { limit: 100 } : { after, limit: 100 });
      for (const { value } of page.items) {
        const latest = (await this.versionsOf(accountId, value.layerName)).filter((v) => matches(v, f)).pop();
        if (!latest) continue;
        if (layers.length === f.maxItems) return { layers, nextMarker: Buffer.from(layers[layers.length - 1]!.name).toString("base64url") };
        layers.push({ name: value.layerName, latest });
      }
      if (page.next === undefined) return { layers };
      after = page.next;
    }
  }

  /**
   * A function's `Layers` (already shape-checked) as pinned packages, in order, with AWS's checks:
   * another account's layer, another region, a version that does not exist, two versions of one layer.
   */
  async resolveForFunction(accountId: string, arns: string[]): Promise<FunctionLayer[]> {
    const seen = new Map<string, string>();
    const out: FunctionLayer[] = [];
    for (const arn of arns) {
      const ref = parseLayerVersionArn(arn);
      if (!ref) throw invalidParameter(`Layer version ${arn} does not exist.`);
      if (ref.accountId !== accountId) throw accessDenied(accountId, "GetLayerVersion", arn);
      if (ref.region !== this.deps.region) {
        throw invalidParameter(`Layers are not in the same region as the function. Layers are expected to be in region ${this.deps.region}.`);
      }
      const found = await this.deps.metadata.get<LayerVersionRecord>(LAYER_VERSIONS, versionKey(accountId, ref.name, ref.version));
      if (!found) throw invalidParameter(`Layer version ${arn} does not exist.`);
      const unversioned = layerArn(ref.region, ref.accountId, ref.name);
      const earlier = seen.get(unversioned);
      if (earlier !== undefined) {
        throw invalidParameter(
          `Two different versions of the same layer are not allowed to be referenced in the same function. ${earlier} and ${arn} are versions of the same layer.`,
        );
      }
      seen.set(unversioned, arn);
      const v = found.value;
      out.push({ arn: layerVersionArn(this.deps.region, accountId, v.layerName, v.version), codeSha256: v.codeSha256, codeSize: v.codeSize, unzippedSize: v.unzippedSize });
    }
    return out;
  }
}

/**
 * Lambda's limit on the unzipped function plus its layers (250 MB). Undefined when within it, else
 * AWS's error. `codeUnzipped` is undefined for records written before Kiln kept it: then only the
 * layers count.
 */
export function combinedSizeError(codeUnzipped: number | undefined, layers: FunctionLayer[], max: number): KilnError | undefined {
  if (layers.length === 0) return undefined;
  const total = (codeUnzipped ?? 0) + layers.reduce((n, l) => n + l.unzippedSize, 0);
  if (total <= max) return undefined;
  return invalidParameter(`Function code combined with layers exceeds the maximum allowed size of ${max} bytes. The actual size is ${total} bytes.`);
}
