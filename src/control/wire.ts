/** Lambda's wire shapes (FunctionConfiguration, ...) made from registry records. */
import { lambdaTimestamp } from "../base/index.js";
import { functionArn } from "./names.js";
import type { FunctionRecord } from "./types.js";

export type FunctionConfiguration = Record<string, unknown>;

/**
 * SnapStart as Lambda shows it (ApplyOn, OptimizationStatus: On only for a published version that
 * has a snapshot), plus Kiln's OptimizationStatusReason and OptimizationStatusReasonCode when a
 * version asked for SnapStart and has none. Clients that know only Lambda's shape ignore the
 * extension; the version's StateReason carries the same reason for them (versions.ts).
 */
function snapStartOf(rec: FunctionRecord): Record<string, string> {
  const out: Record<string, string> = { ApplyOn: rec.snapStart ?? "None", OptimizationStatus: rec.snapStartStatus?.optimizationStatus ?? "Off" };
  if (rec.snapStartStatus?.reason) out.OptimizationStatusReason = rec.snapStartStatus.reason;
  if (rec.snapStartStatus?.reasonCode) out.OptimizationStatusReasonCode = rec.snapStartStatus.reasonCode;
  return out;
}

/**
 * `arnQualifier` names the qualifier FunctionArn carries (an alias name when read through an alias,
 * "$LATEST" in version lists); by default a published version's number, and none for $LATEST.
 */
export function toFunctionConfiguration(rec: FunctionRecord, region: string, opts: { forList?: boolean; arnQualifier?: string } = {}): FunctionConfiguration {
  const cfg: FunctionConfiguration = {
    FunctionName: rec.name,
    FunctionArn: functionArn(region, rec.accountId, rec.name, opts.arnQualifier ?? (rec.version === "$LATEST" ? undefined : rec.version)),
    Runtime: rec.runtime,
    Role: rec.role,
    Handler: rec.handler,
    CodeSize: rec.codeSize,
    Description: rec.description,
    Timeout: rec.timeout,
    MemorySize: rec.memorySize,
    LastModified: lambdaTimestamp(rec.lastModified),
    CodeSha256: rec.codeSha256,
    Version: rec.version,
    TracingConfig: { Mode: rec.tracingMode },
    RevisionId: rec.revisionId,
    PackageType: rec.packageType,
    Architectures: rec.architectures,
    EphemeralStorage: { Size: rec.ephemeralStorageSize },
    SnapStart: snapStartOf(rec),
    LoggingConfig: { LogFormat: rec.logFormat, LogGroup: rec.logGroup },
    RuntimeVersionConfig: { RuntimeVersionArn: `arn:aws:lambda:${region}::runtime:kiln-${rec.runtime}` },
  };
  if (Object.keys(rec.environment).length > 0) cfg.Environment = { Variables: rec.environment };
  if (rec.deadLetterTargetArn) cfg.DeadLetterConfig = { TargetArn: rec.deadLetterTargetArn };
  if (rec.layers !== undefined && rec.layers.length > 0) cfg.Layers = rec.layers.map((l) => ({ Arn: l.arn, CodeSize: l.codeSize }));
  if (!opts.forList) {
    cfg.State = rec.state;
    if (rec.stateReason) cfg.StateReason = rec.stateReason;
    if (rec.stateReasonCode) cfg.StateReasonCode = rec.stateReasonCode;
    cfg.LastUpdateStatus = rec.lastUpdateStatus;
    if (rec.lastUpdateStatusReason) cfg.LastUpdateStatusReason = rec.lastUpdateStatusReason;
    if (rec.lastUpdateStatusReasonCode) cfg.LastUpdateStatusReasonCode = rec.lastUpdateStatusReasonCode;
  }
  return cfg;
}
