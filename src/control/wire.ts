/** Lambda's wire shapes (FunctionConfiguration, ...) made from registry records. */
import { lambdaTimestamp } from "../base/index.js";
import { functionArn } from "./names.js";
import type { FunctionRecord } from "./types.js";

export type FunctionConfiguration = Record<string, unknown>;

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
    SnapStart: { ApplyOn: "None", OptimizationStatus: "Off" },
    LoggingConfig: { LogFormat: rec.logFormat, LogGroup: rec.logGroup },
    RuntimeVersionConfig: { RuntimeVersionArn: `arn:aws:lambda:${region}::runtime:kiln-${rec.runtime}` },
  };
  if (Object.keys(rec.environment).length > 0) cfg.Environment = { Variables: rec.environment };
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
