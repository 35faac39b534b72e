/**
 * Pure validation of control-plane requests, with AWS's error codes and messages. Each function
 * takes the parsed JSON body and returns a typed, complete value or throws a KilnError.
 */
import { KilnError, invalidParameter, validation } from "../base/index.js";
import { SUPPORTED_RUNTIMES, isSupportedRuntime, type RuntimeName } from "../sandbox/index.js";
import { FUNCTION_NAME_PATTERN } from "./names.js";
import { validateDeadLetterConfig } from "./dead-letter.js";
import { validateFunctionLayers } from "./layer-validation.js";
import * as L from "./limits.js";

const ROLE_PATTERN = /^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;
const HANDLER_PATTERN = /^[^\s]{1,128}$/;

export interface ConfigurationInput {
  runtime?: RuntimeName;
  handler?: string;
  role?: string;
  description?: string;
  timeout?: number;
  memorySize?: number;
  environment?: Record<string, string>;
  ephemeralStorageSize?: number;
  tracingMode?: "Active" | "PassThrough";
  logFormat?: "Text" | "JSON";
  logGroup?: string;
  /** "" removes the dead-letter target. */
  deadLetterTargetArn?: string;
  /** Layer version ARNs, in order (shape-checked; the layer registry resolves them). */
  layers?: string[];
  /** SnapStart.ApplyOn. */
  snapStart?: "PublishedVersions" | "None";
  revisionId?: string;
}

export interface CreateFunctionInput extends ConfigurationInput {
  name: string;
  runtime: RuntimeName;
  handler: string;
  role: string;
  zipFile: Buffer;
  architectures: string[];
  tags: Record<string, string>;
  publish: boolean;
}

export interface UpdateCodeInput {
  zipFile: Buffer;
  revisionId?: string;
  dryRun: boolean;
  publish: boolean;
}

type Json = Record<string, unknown>;

export const constraint = (value: unknown, field: string, rule: string): KilnError =>
  validation(`1 validation error detected: Value '${typeof value === "string" ? value : JSON.stringify(value)}' at '${field}' failed to satisfy constraint: ${rule}`);

function str(body: Json, key: string, field: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw invalidParameter(`Invalid type for parameter ${key}, value: ${JSON.stringify(v)}, type: ${typeof v}, valid types: string`);
  return v;
}

/** An optional integer member of a request body, within [min, max], with AWS's messages. */
export function int(body: Json, key: string, field: string, min: number, max: number): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v)) throw invalidParameter(`Invalid type for parameter ${key}, value: ${JSON.stringify(v)}, valid types: integer`);
  if (v < min) throw constraint(v, field, `Member must have value greater than or equal to ${min}`);
  if (v > max) throw constraint(v, field, `Member must have value less than or equal to ${max}`);
  return v;
}

function obj(body: Json, key: string): Json | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v)) throw invalidParameter(`Invalid type for parameter ${key}, valid types: structure`);
  return v as Json;
}

export function validateRuntime(v: string): RuntimeName {
  if (!isSupportedRuntime(v)) {
    throw invalidParameter(`Value ${v} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [${SUPPORTED_RUNTIMES.join(", ")}] or be a valid ARN`);
  }
  return v;
}

export function validateEnvironment(env: Json | undefined): Record<string, string> | undefined {
  if (env === undefined) return undefined;
  const vars = env.Variables;
  if (vars === undefined || vars === null) return {};
  if (typeof vars !== "object" || Array.isArray(vars)) throw invalidParameter("Invalid type for parameter Environment.Variables, valid types: map");
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars as Json)) {
    if (typeof v !== "string") throw invalidParameter(`Invalid type for parameter Environment.Variables.${k}, valid types: string`);
    if (!/^[a-zA-Z]([a-zA-Z0-9_])+$/.test(k)) throw constraint(k, "environment.variables", "Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+");
    out[k] = v;
  }
  const reserved = Object.keys(out).filter((k) => L.RESERVED_ENV_KEYS.has(k));
  if (reserved.length > 0) {
    throw invalidParameter(
      `Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(", ")}`,
    );
  }
  const measured = JSON.stringify(out);
  if (Buffer.byteLength(measured) > L.ENV_VARS_MAX_BYTES) {
    throw invalidParameter(
      `Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: ${measured}`,
    );
  }
  return out;
}

function validateConfiguration(body: Json): ConfigurationInput {
  const out: ConfigurationInput = {};
  const runtime = str(body, "Runtime", "runtime");
  if (runtime !== undefined) out.runtime = validateRuntime(runtime);
  const handler = str(body, "Handler", "handler");
  if (handler !== undefined) {
    if (!HANDLER_PATTERN.test(handler)) throw constraint(handler, "handler", "Member must satisfy regular expression pattern: [^\\s]+");
    out.handler = handler;
  }
  const role = str(body, "Role", "role");
  if (role !== undefined) {
    if (!ROLE_PATTERN.test(role)) throw constraint(role, "role", "Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+");
    out.role = role;
  }
  const description = str(body, "Description", "description");
  if (description !== undefined) {
    if (description.length > L.DESCRIPTION_MAX) throw constraint(description, "description", `Member must have length less than or equal to ${L.DESCRIPTION_MAX}`);
    out.description = description;
  }
  const timeout = int(body, "Timeout", "timeout", L.TIMEOUT_MIN_S, L.TIMEOUT_MAX_S);
  if (timeout !== undefined) out.timeout = timeout;
  const memory = int(body, "MemorySize", "memorySize", L.MEMORY_MIN_MB, L.MEMORY_MAX_MB);
  if (memory !== undefined) out.memorySize = memory;
  const env = validateEnvironment(obj(body, "Environment"));
  if (env !== undefined) out.environment = env;
  const eph = obj(body, "EphemeralStorage");
  if (eph !== undefined) {
    const size = int(eph, "Size", "ephemeralStorage.size", L.EPHEMERAL_MIN_MB, L.EPHEMERAL_MAX_MB);
    if (size !== undefined) out.ephemeralStorageSize = size;
  }
  const tracing = obj(body, "TracingConfig");
  if (tracing?.Mode !== undefined) {
    if (tracing.Mode !== "Active" && tracing.Mode !== "PassThrough") throw constraint(tracing.Mode, "tracingConfig.mode", "Member must satisfy enum value set: [Active, PassThrough]");
    out.tracingMode = tracing.Mode;
  }
  const logging = obj(body, "LoggingConfig");
  if (logging !== undefined) {
    if (logging.LogFormat !== undefined) {
      if (logging.LogFormat !== "Text" && logging.LogFormat !== "JSON") throw constraint(logging.LogFormat, "loggingConfig.logFormat", "Member must satisfy enum value set: [JSON, Text]");
      out.logFormat = logging.LogFormat;
    }
    const group = str(logging, "LogGroup", "loggingConfig.logGroup");
    if (group !== undefined) out.logGroup = group;
  }
  if (body.DeadLetterConfig !== undefined && body.DeadLetterConfig !== null) out.deadLetterTargetArn = validateDeadLetterConfig(body.DeadLetterConfig);
  const layers = validateFunctionLayers(body.Layers);
  if (layers !== undefined) out.layers = layers;
  const snapStart = obj(body, "SnapStart");
  if (snapStart !== undefined && snapStart.ApplyOn !== undefined && snapStart.ApplyOn !== null) {
    if (snapStart.ApplyOn !== "PublishedVersions" && snapStart.ApplyOn !== "None") {
      throw constraint(snapStart.ApplyOn, "snapStart.applyOn", "Member must satisfy enum value set: [PublishedVersions, None]");
    }
    out.snapStart = snapStart.ApplyOn;
  }
  for (const unsupported of ["VpcConfig", "KMSKeyArn", "FileSystemConfigs", "ImageConfig"]) {
    const v = body[unsupported];
    if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) continue;
    if (unsupported === "VpcConfig" && typeof v === "object" && !(v as Json).SubnetIds?.toString()) continue;
    throw invalidParameter(`${unsupported} is not supported by this Kiln server yet.`);
  }
  const revisionId = str(body, "RevisionId", "revisionId");
  if (revisionId !== undefined) out.revisionId = revisionId;
  return out;
}

function decodeZip(code: Json | undefined): Buffer {
  if (code === undefined) throw invalidParameter("Please provide a source for function code.");
  if (code.S3Bucket !== undefined || code.S3Key !== undefined) throw invalidParameter("Code from S3 (S3Bucket/S3Key) is not supported by Kiln: upload the package as ZipFile.");
  if (code.ImageUri !== undefined) throw invalidParameter("Container images (ImageUri) are not supported by Kiln yet: use PackageType Zip.");
  if (typeof code.ZipFile !== "string" || code.ZipFile.length === 0) throw invalidParameter("Please provide a source for function code.");
  return decodeBase64Zip(code.ZipFile);
}

export function decodeBase64Zip(b64: string): Buffer {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw invalidParameter("Could not unzip uploaded file. Please check your file, then try to upload again.");
  const zip = Buffer.from(b64, "base64");
  if (zip.length > L.ZIPPED_MAX_BYTES) throw new KilnError("RequestEntityTooLargeException", `Zipped size must be smaller than ${L.ZIPPED_MAX_BYTES} bytes`);
  return zip;
}

function validateTags(v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v)) throw invalidParameter("Invalid type for parameter Tags, valid types: map");
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Json)) {
    if (typeof val !== "string") throw invalidParameter(`Invalid type for parameter Tags.${k}, valid types: string`);
    out[k] = val;
  }
  return out;
}

export function validateCreateFunction(body: Json): CreateFunctionInput {
  const name = str(body, "FunctionName", "functionName");
  if (name === undefined) throw validation("1 validation error detected: Value null at 'functionName' failed to satisfy constraint: Member must not be null");
  if (!FUNCTION_NAME_PATTERN.test(name)) throw constraint(name, "functionName", "Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+ and have length less than or equal to 64");
  const packageType = str(body, "PackageType", "packageType") ?? "Zip";
  if (packageType !== "Zip") throw invalidParameter("Container images (PackageType Image) are not supported by Kiln yet: use PackageType Zip.");
  const config = validateConfiguration(body);
  if (config.role === undefined) throw validation("1 validation error detected: Value null at 'role' failed to satisfy constraint: Member must not be null");
  if (config.runtime === undefined) throw invalidParameter("Runtime and Handler are mandatory parameters for functions created with deployment packages.");
  if (config.handler === undefined) throw invalidParameter("Runtime and Handler are mandatory parameters for functions created with deployment packages.");
  const arch = body.Architectures ?? ["x86_64"];
  if (!Array.isArray(arch) || arch.length !== 1 || (arch[0] !== "x86_64" && arch[0] !== "arm64")) {
    throw validation(`1 validation error detected: Value '${JSON.stringify(arch)}' at 'architectures' failed to satisfy constraint: Member must have length less than or equal to 1, and each member must satisfy enum value set: [x86_64, arm64]`);
  }
  if (arch[0] === "arm64" && process.arch !== "arm64") throw invalidParameter("This Kiln host runs x86_64 only: Architectures [arm64] cannot be executed here.");
  const publish = body.Publish ?? false;
  if (typeof publish !== "boolean") throw invalidParameter("Invalid type for parameter Publish, valid types: boolean");
  return {
    ...config,
    name,
    runtime: config.runtime,
    handler: config.handler,
    role: config.role,
    zipFile: decodeZip(obj(body, "Code")),
    architectures: arch as string[],
    tags: validateTags(body.Tags),
    publish,
  };
}

export function validateUpdateConfiguration(body: Json): ConfigurationInput {
  return validateConfiguration(body);
}

export function validateUpdateCode(body: Json): UpdateCodeInput {
  if (body.S3Bucket !== undefined || body.S3Key !== undefined) throw invalidParameter("Code from S3 (S3Bucket/S3Key) is not supported by Kiln: upload the package as ZipFile.");
  if (body.ImageUri !== undefined) throw invalidParameter("Container images (ImageUri) are not supported by Kiln yet: use PackageType Zip.");
  const zip = str(body, "ZipFile", "zipFile");
  if (zip === undefined || zip === "") throw invalidParameter("Please provide a source for function code.");
  const publish = body.Publish ?? false;
  const dryRun = body.DryRun ?? false;
  if (typeof publish !== "boolean" || typeof dryRun !== "boolean") throw invalidParameter("Invalid type for parameter Publish or DryRun, valid types: boolean");
  const out: UpdateCodeInput = { zipFile: decodeBase64Zip(zip), dryRun, publish };
  const rev = str(body, "RevisionId", "revisionId");
  if (rev !== undefined) out.revisionId = rev;
  return out;
}
