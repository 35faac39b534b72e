/** The function registry's records. Wire shapes are produced from these by `wire.ts`. */
import type { RuntimeName } from "../sandbox/index.js";

export type FunctionState = "Pending" | "Active" | "Failed" | "Inactive";
export type LastUpdateStatus = "InProgress" | "Successful" | "Failed";

export interface FunctionRecord {
  accountId: string;
  name: string;
  /** "$LATEST" for the mutable record; "1", "2", ... for published versions (immutable snapshots). */
  version: string;
  runtime: RuntimeName;
  handler: string;
  role: string;
  description: string;
  timeout: number;
  memorySize: number;
  environment: Record<string, string>;
  architectures: string[];
  ephemeralStorageSize: number;
  packageType: "Zip";
  tracingMode: "Active" | "PassThrough";
  logFormat: "Text" | "JSON";
  logGroup: string;
  codeSha256: string;
  codeSize: number;
  state: FunctionState;
  stateReason?: string;
  stateReasonCode?: string;
  lastUpdateStatus: LastUpdateStatus;
  lastUpdateStatusReason?: string;
  lastUpdateStatusReasonCode?: string;
  lastModified: number;
  revisionId: string;
  tags: Record<string, string>;
  /** DeadLetterConfig.TargetArn: where failed asynchronous events go. */
  deadLetterTargetArn?: string;
  /** Published versions only: fingerprint of the $LATEST configuration they were published from. */
  sourceFingerprint?: string;
  /** Layers in order (later ones win under /opt); each pinned to the package it had when attached. */
  layers?: FunctionLayer[];
  /** Unzipped bytes of the function's own package (the 250 MB limit counts it with its layers). */
  codeUnzippedSize?: number;
  /** SnapStart's ApplyOn; absent means "None". Published versions copy it from $LATEST. */
  snapStart?: "PublishedVersions";
  /** Published versions with SnapStart: how their snapshot turned out (absent while it is being made). */
  snapStartStatus?: SnapStartStatus;
}

/** A published version's SnapStart outcome. */
export interface SnapStartStatus {
  optimizationStatus: "On" | "Off";
  /** On: the snapshot its cold starts restore. */
  snapshotId?: string;
  /** Off: why (a Kiln extension of the configuration, see wire.ts). */
  reasonCode?: string;
  reason?: string;
}

/**
 * Makes SnapStart snapshots of published versions (the snapshot component, adapted by the wiring).
 * create() never throws for the function's own failures: it answers Off with the reason.
 */
export interface SnapshotCreator {
  create(version: FunctionRecord): Promise<SnapStartStatus>;
  remove(snapshotId: string): Promise<void>;
}

/** A layer version as a function holds it: still usable after the layer version is deleted. */
export interface FunctionLayer {
  arn: string;
  codeSha256: string;
  codeSize: number;
  unzippedSize: number;
}

/** One published layer version: immutable. */
export interface LayerVersionRecord {
  accountId: string;
  layerName: string;
  version: number;
  description: string;
  licenseInfo?: string;
  compatibleRuntimes?: string[];
  compatibleArchitectures?: string[];
  codeSha256: string;
  codeSize: number;
  unzippedSize: number;
  createdDate: number;
}

export type FunctionUrlAuthType = "NONE" | "AWS_IAM";

/** Lambda's Cors structure, as stored (wire names). */
export interface FunctionUrlCors {
  AllowCredentials?: boolean;
  AllowHeaders?: string[];
  AllowMethods?: string[];
  AllowOrigins?: string[];
  ExposeHeaders?: string[];
  MaxAge?: number;
}

/** A function URL configuration: one per function qualifier ($LATEST or an alias). */
export interface FunctionUrlRecord {
  urlId: string;
  accountId: string;
  functionName: string;
  /** "$LATEST" for the unqualified function, else an alias name. */
  qualifier: string;
  authType: FunctionUrlAuthType;
  cors?: FunctionUrlCors;
  invokeMode: "BUFFERED" | "RESPONSE_STREAM";
  creationTime: number;
  lastModifiedTime: number;
}

export interface AccountRecord {
  accountId: string;
  name: string;
  accessKeyId: string;
  secretAccessKey: string;
  root: boolean;
  createdAt: number;
}

/** What the invoke path needs to know about one function version. */
export interface ResolvedFunction {
  record: FunctionRecord;
  /** The version actually executed ($LATEST, "1", ...). */
  executedVersion: string;
  /** ARN as invoked (qualified when a qualifier was given). */
  invokedArn: string;
  /** Identity of the executable configuration: environments are never shared across two of these. */
  configKey: string;
}

/** An alias: a name for one version, optionally routing a share of invokes to a second one. */
export interface AliasRecord {
  accountId: string;
  functionName: string;
  name: string;
  functionVersion: string;
  description: string;
  /** AdditionalVersionWeights: at most one entry (Lambda's limit). */
  additionalVersion?: { version: string; weight: number };
  revisionId: string;
}

/** Function-level settings that belong to no version: the version counter and reserved concurrency. */
export interface FunctionMeta {
  /** Highest version number ever published (numbers are never reused). */
  lastVersion: number;
  reservedConcurrency?: number;
}

/** A provisioned concurrency configuration on a version or an alias. */
export interface ProvisionedConfigRecord {
  accountId: string;
  functionName: string;
  qualifier: string;
  requested: number;
  lastModified: number;
}

/** How an invoke of one name/qualifier picks its version: always `primary`, or `additional` with its weight. */
export interface ResolutionPlan {
  primary: ResolvedFunction;
  additional?: { fn: ResolvedFunction; weight: number };
}
