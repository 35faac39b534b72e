/** The function registry's records. Wire shapes are produced from these by `wire.ts`. */
import type { RuntimeName } from "../sandbox/index.js";

export type FunctionState = "Pending" | "Active" | "Failed" | "Inactive";
export type LastUpdateStatus = "InProgress" | "Successful" | "Failed";

export interface FunctionRecord {
  accountId: string;
  name: string;
  version: "$LATEST";
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
