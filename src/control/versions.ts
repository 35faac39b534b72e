/**
 * Published versions: immutable snapshots of $LATEST (code and configuration), numbered 1, 2, ...
 * Numbers are never reused, even after a version is deleted.
 *
 * Algorithm (PublishVersion): check the RevisionId and CodeSha256 preconditions against $LATEST,
 * refuse while an update is in progress, then compare the fingerprint of $LATEST's executable
 * configuration with the one the newest version was published from: equal means nothing changed,
 * and the newest version is returned instead of a new one. Otherwise one atomic batch writes the
 * version, bumps the function's version counter and re-writes $LATEST unchanged at the revision it
 * was read at. That last write is the guard every function-level write shares (versions, aliases,
 * concurrency): a concurrent update or delete makes the batch fail, and the publish retries.
 *
 * Worked example: publish -> "1"; publish again, nothing changed -> "1" again; UpdateFunctionCode;
 * publish -> "2"; delete "2"; UpdateFunctionConfiguration; publish -> "3" (never "2" again).
 *
 * SnapStart (ApplyOn PublishedVersions on $LATEST): the new version is Pending while Kiln makes its
 * snapshot off the request path (registry.background; settled() waits for it), then Active with
 * OptimizationStatus On, or Off with the reason (also in its StateReason) when the function
 * cannot be snapshotted: publishing never fails for it. A version deleted meanwhile takes its
 * snapshot with it; a restart finishes Pending versions (recover()).
 *
 * Known caveats: the fingerprint ignores tags (function-level, not versioned), so tagging never
 * makes a version publishable; a Description given to PublishVersion alone does not either (AWS
 * also returns the existing version then).
 */
import { createHash } from "node:crypto";
import { KilnError, conflict, invalidParameter, notFound, revisionId, type Clock } from "../base/index.js";
import { RevisionMismatchError, type MetadataStore } from "../store/index.js";
import type { FunctionRef } from "./names.js";
import type { FunctionMeta, FunctionRecord, SnapStartStatus, SnapshotCreator } from "./types.js";
import type { FunctionRegistry } from "./functions.js";
import { FUNCTIONS, META, PROVISIONED, VERSIONS } from "./collections.js";


export const isVersionNumber = (qualifier: string): boolean => /^[0-9]+$/.test(qualifier);

/** Zero-padded so that store order is numeric order. */
export const versionKey = (accountId: string, name: string, version: number | string): string => `${accountId}/${name}/${String(version).padStart(10, "0")}`;

/** Fields that change without changing what runs: never part of a version's identity. */
const VOLATILE = new Set([
  "version",
  "revisionId",
  "lastModified",
  "state",
  "stateReason",
  "stateReasonCode",
  "lastUpdateStatus",
  "lastUpdateStatusReason",
  "lastUpdateStatusReasonCode",
  "tags",
  "sourceFingerprint",
  "snapStartStatus",
]);

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, x]) => `${JSON.stringify(k)}:${stableJson(x)}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}

/**
 * Identity of a record's executable configuration: code plus every configuration field, whatever
 * fields later issues add (layers, ...), minus the volatile ones above.
 */
export function configFingerprint(rec: FunctionRecord): string {
  const stable = Object.fromEntries(Object.entries(rec).filter(([k]) => !VOLATILE.has(k)));
  return createHash("sha256").update(stableJson(stable)).digest("hex");
}

export interface PublishInput {
  codeSha256?: string;
  description?: string;
  revisionId?: string;
}

export const REVISION_MISMATCH =
  "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id";

interface Deps {
  metadata: MetadataStore;
  clock: Clock;
  snapshots?: SnapshotCreator;
}

export const SNAPSHOT_PENDING_REASON = "Kiln is initializing the function to take its SnapStart snapshot.";

export class FunctionVersions {
  constructor(private readonly registry: FunctionRegistry, private readonly deps: Deps) {}

  /** One published version, or the AWS not-found error naming it. */
  async get(accountId: string, name: string, version: string): Promise<FunctionRecord> {
    const found = isVersionNumber(version) ? await this.deps.metadata.get<FunctionRecord>(VERSIONS, versionKey(accountId, name, version)) : undefined;
    if (!found) throw notFound(`Function not found: ${this.registry.arn(accountId, name, version)}`);
    return found.value;
  }

  async exists(accountId: string, name: string, version: string): Promise<boolean> {
    return isVersionNumber(version) && (await this.deps.metadata.get(VERSIONS, versionKey(accountId, name, version))) !== undefined;
  }

  async publish(accountId: string, ref: FunctionRef, input: PublishInput): Promise<FunctionRecord> {
    const fnKey = `${accountId}/${ref.name}`;
    for (let attempt = 0; attempt < 8; attempt++) {
      const latest = await this.registry.load(accountId, ref);
      const rec = latest.value;
      if (input.revisionId !== undefined && input.revisionId !== rec.revisionId) throw new KilnError("PreconditionFailedException", REVISION_MISMATCH);
      if (input.codeSha256 !== undefined && input.codeSha256 !== rec.codeSha256) {
        throw invalidParameter(
          `CodeSHA256 (${input.codeSha256}) is different from current CodeSHA256 in $LATEST (${rec.codeSha256}). Please try again with the CodeSHA256 in $LATEST.`,
        );
      }
      if (rec.state === "Pending" || rec.lastUpdateStatus === "InProgress") {
        throw conflict(`The operation cannot be performed at this time. An update is in progress for resource: ${this.registry.arn(accountId, ref.name)}`);
      }
      const metaDoc = await this.deps.metadata.get<FunctionMeta>(META, fnKey);
      const meta: FunctionMeta = metaDoc?.value ?? { lastVersion: 0 };
      const fingerprint = configFingerprint(rec);
      if (meta.lastVersion > 0) {
        const newest = await this.deps.metadata.get<FunctionRecord>(VERSIONS, versionKey(accountId, ref.name, meta.lastVersion));
        if (newest && newest.value.sourceFingerprint === fingerprint) return newest.value;
      }
      const n = meta.lastVersion + 1;
      const version: FunctionRecord = {
        ...rec,
        version: String(n),
        description: input.description ?? rec.description,
        state: "Active",
        lastUpdateStatus: "Successful",
        lastModified: this.deps.clock.now(),
        revisionId: revisionId(),
        tags: {},
        sourceFingerprint: fingerprint,
      };
      for (const k of ["stateReason", "stateReasonCode", "lastUpdateStatusReason", "lastUpdateStatusReasonCode", "snapStartStatus"] as const) delete version[k];
      const snapStart = rec.snapStart === "PublishedVersions";
      if (snapStart) {
        version.state = "Pending";
        version.stateReason = SNAPSHOT_PENDING_REASON;
        version.stateReasonCode = "Creating";
      }
      try {
        await this.deps.metadata.batch([
          { op: "put", collection: FUNCTIONS, key: fnKey, value: rec, expectedRevision: latest.revision },
          { op: "put", collection: META, key: fnKey, value: { ...meta, lastVersion: n }, expectedRevision: metaDoc?.revision ?? 0 },
          { op: "put", collection: VERSIONS, key: versionKey(accountId, ref.name, n), value: version, expectedRevision: 0 },
        ]);
        if (snapStart) this.registry.background("SnapStart snapshot", () => this.takeSnapshot(accountId, ref.name, String(n)));
        return version;
      } catch (e) {
        if (!(e instanceof RevisionMismatchError)) throw e;
      }
    }
    throw conflict(`The operation cannot be performed at this time. An update is in progress for resource: ${this.registry.arn(accountId, ref.name)}`);
  }

  /** Makes a Pending version's snapshot and records the outcome; the version becomes Active either way. */
  private async takeSnapshot(accountId: string, name: string, version: string): Promise<void> {
    const k = versionKey(accountId, name, version);
    const before = await this.deps.metadata.get<FunctionRecord>(VERSIONS, k);
    if (!before || before.value.state !== "Pending") return;
    let status: SnapStartStatus;
    try {
      status = this.deps.snapshots
        ? await this.deps.snapshots.create(before.value)
        : { optimizationStatus: "Off", reasonCode: "Unavailable", reason: "this Kiln server makes no snapshots" };
    } catch (e) {
      status = { optimizationStatus: "Off", reasonCode: "BuildFailed", reason: `Kiln could not make the snapshot: ${(e as Error).message}` };
    }
    for (let attempt = 0; attempt < 8; attempt++) {
      const cur = await this.deps.metadata.get<FunctionRecord>(VERSIONS, k);
      if (!cur || cur.value.state !== "Pending") break;
      const done: FunctionRecord = { ...cur.value, state: "Active", snapStartStatus: status };
      delete done.stateReasonCode;
      if (status.optimizationStatus === "Off") done.stateReason = `SnapStart is off for this version: ${status.reason ?? "no snapshot"}`;
      else delete done.stateReason;
      try {
        await this.deps.metadata.put(VERSIONS, k, done, cur.revision);
        return;
      } catch (e) {
        if (!(e instanceof RevisionMismatchError)) throw e;
      }
    }
    // The version went away (deleted) while its snapshot was made: so does the snapshot.
    if (status.snapshotId !== undefined) await this.removeSnapshot(status.snapshotId);
  }

  /** Resumes the snapshots of versions left Pending by a restart; returns how many. */
  async recover(): Promise<number> {
    const pending = (await this.all("")).filter((v) => v.state === "Pending" && v.snapStart === "PublishedVersions");
    for (const v of pending) this.registry.background("SnapStart snapshot", () => this.takeSnapshot(v.accountId, v.name, v.version));
    return pending.length;
  }

  /** The snapshots a function's versions hold (to remove with the function). */
  async snapshotIds(accountId: string, name: string): Promise<string[]> {
    return (await this.all(`${accountId}/${name}/`)).flatMap((v) => (v.snapStartStatus?.snapshotId ? [v.snapStartStatus.snapshotId] : []));
  }

  async removeSnapshot(snapshotId: string): Promise<void> {
    await this.deps.snapshots?.remove(snapshotId).catch(() => undefined);
  }

  /** $LATEST then every published version in order, a page at a time (Marker = last version returned). */
  async list(accountId: string, ref: FunctionRef, marker: string | undefined, maxItems: number): Promise<{ versions: FunctionRecord[]; nextMarker?: string }> {
    const latest = (await this.registry.load(accountId, ref)).value;
    const all = [latest, ...(await this.all(`${accountId}/${ref.name}/`))];
    let start = 0;
    if (marker) {
      const after = Buffer.from(marker, "base64url").toString();
      const i = all.findIndex((v) => v.version === after);
      if (i < 0) throw invalidParameter("Invalid marker: call ListVersionsByFunction without a Marker to start again.");
      start = i + 1;
    }
    const page = all.slice(start, start + maxItems);
    const out: { versions: FunctionRecord[]; nextMarker?: string } = { versions: page };
    if (start + maxItems < all.length && page.length > 0) out.nextMarker = Buffer.from(page[page.length - 1]!.version).toString("base64url");
    return out;
  }

  /** ListFunctions with FunctionVersion=ALL: every function's $LATEST and versions, in name order. */
  async listAll(accountId: string, marker: string | undefined, maxItems: number): Promise<{ versions: FunctionRecord[]; nextMarker?: string }> {
    const all: FunctionRecord[] = [];
    const versions = await this.all(`${accountId}/`);
    let fnMarker: string | undefined;
    do {
      const page = await this.registry.list(accountId, fnMarker, 500);
      for (const fn of page.functions) all.push(fn, ...versions.filter((v) => v.name === fn.name));
      fnMarker = page.nextMarker;
    } while (fnMarker !== undefined);
    const id = (v: FunctionRecord) => `${v.name}:${v.version}`;
    let start = 0;
    if (marker) {
      const after = Buffer.from(marker, "base64url").toString();
      start = all.findIndex((v) => id(v) === after) + 1;
      if (start === 0) throw invalidParameter("Invalid marker: call ListFunctions without a Marker to start again.");
    }
    const page = all.slice(start, start + maxItems);
    const out: { versions: FunctionRecord[]; nextMarker?: string } = { versions: page };
    if (start + maxItems < all.length && page.length > 0) out.nextMarker = Buffer.from(id(page[page.length - 1]!)).toString("base64url");
    return out;
  }

  /**
   * Deletes one version. Refused (409) while an alias points to it, as its primary or additional
   * version; its provisioned concurrency configuration goes with it.
   */
  async delete(accountId: string, ref: FunctionRef, qualifier: string): Promise<void> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const latest = await this.registry.load(accountId, ref);
      if (!isVersionNumber(qualifier)) {
        if (await this.registry.aliases.find(accountId, ref.name, qualifier)) {
          throw invalidParameter("Deletion of aliases is not supported by DeleteFunction: use DeleteAlias.");
        }
        throw notFound(`Function not found: ${this.registry.arn(accountId, ref.name, qualifier)}`);
      }
      const doomed = await this.get(accountId, ref.name, qualifier);
      const users = (await this.registry.aliases.all(accountId, ref.name))
        .filter((a) => a.functionVersion === qualifier || a.additionalVersion?.version === qualifier)
        .map((a) => a.name);
      if (users.length > 0) throw conflict(`Unable to delete version because the following aliases reference it: [${users.join(", ")}]`);
      const fnKey = `${accountId}/${ref.name}`;
      const hadProvisioned = await this.registry.concurrency.findProvisioned(accountId, ref.name, qualifier);
      try {
        await this.deps.metadata.batch([
          { op: "put", collection: FUNCTIONS, key: fnKey, value: latest.value, expectedRevision: latest.revision },
          { op: "delete", collection: VERSIONS, key: versionKey(accountId, ref.name, qualifier) },
          { op: "delete", collection: PROVISIONED, key: `${fnKey}/${qualifier}` },
        ]);
      } catch (e) {
        if (e instanceof RevisionMismatchError) continue;
        throw e;
      }
      if (hadProvisioned) await this.registry.concurrency.announce(accountId, ref.name);
      this.registry.emit({ kind: "version-deleted", accountId, name: ref.name, version: qualifier });
      if (doomed.snapStartStatus?.snapshotId) await this.removeSnapshot(doomed.snapStartStatus.snapshotId);
      return;
    }
    throw conflict(`The operation cannot be performed at this time. An update is in progress for resource: ${this.registry.arn(accountId, ref.name)}`);
  }

  /** Total code size of every published version of the account (GetAccountSettings counts them). */
  async codeSize(accountId: string): Promise<number> {
    return (await this.all(`${accountId}/`)).reduce((n, v) => n + v.codeSize, 0);
  }

  private async all(prefix: string): Promise<FunctionRecord[]> {
    const out: FunctionRecord[] = [];
    let after: string | undefined;
    do {
      const page = await this.deps.metadata.list<FunctionRecord>(VERSIONS, prefix, after === undefined ? { limit: 500 } : { after, limit: 500 });
      out.push(...page.items.map((i) => i.value));
      after = page.next;
    } while (after !== undefined);
    return out;
  }
}
