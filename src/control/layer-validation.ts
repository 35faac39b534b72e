/**
 * Pure validation of the layer APIs' input, with AWS's codes and messages: layer names and ARNs,
 * PublishLayerVersion bodies, list filters, and the shape of a function's `Layers` list. Whether a
 * layer version exists or may be used is decided by the layer registry (layers.ts).
 */
import { KilnError, invalidParameter, validation } from "../base/index.js";
import * as L from "./limits.js";

/**
 * Every runtime identifier AWS accepts in CompatibleRuntimes (layers may name runtimes Kiln cannot
 * run: the field is informational), in the order AWS prints the enum in its validation messages.
 */
export const LAYER_RUNTIMES = [
  "ruby2.6", "dotnetcore1.0", "python3.7", "nodejs8.10", "nasa", "ruby2.7", "python2.7-greengrass", "dotnetcore2.0", "python3.8",
  "java21", "dotnet6", "dotnetcore2.1", "python3.9", "java11", "nodejs6.10", "provided", "dotnetcore3.1", "dotnet8", "java17",
  "nodejs", "nodejs4.3", "java8.al2", "go1.x", "nodejs20.x", "go1.9", "byol", "nodejs10.x", "provided.al2023", "nodejs22.x",
  "python3.10", "java8", "nodejs12.x", "python3.11", "nodejs8.x", "python3.12", "nodejs14.x", "nodejs8.9", "python3.13",
  "nodejs16.x", "provided.al2", "nodejs4.3-edge", "nodejs18.x", "ruby3.2", "python3.4", "ruby3.3", "ruby2.5", "python3.6", "python2.7",
] as const;
export const LAYER_ARCHITECTURES = ["x86_64", "arm64"] as const;

/** Quotas of PublishLayerVersion (the API model's constraints). */
export const COMPATIBLE_RUNTIMES_MAX = 15;
export const COMPATIBLE_ARCHITECTURES_MAX = 2;
export const LICENSE_INFO_MAX = 512;
export const LAYER_NAME_MAX = 140;
/** A function references at most 5 layers (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). */
export const FUNCTION_LAYERS_MAX = 5;
export const LAYER_LIST_MAX_ITEMS = 50;

const LAYER_NAME_PATTERN_TEXT = "(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+";
const LAYER_NAME = /^(?:arn:[a-zA-Z0-9-]+:lambda:([a-zA-Z0-9-]+):(\d{12}):layer:([a-zA-Z0-9-_]+)|([a-zA-Z0-9-_]+))$/;
const LAYER_VERSION_ARN = /^arn:[a-zA-Z0-9-]+:lambda:([a-zA-Z0-9-]+):(\d{12}):layer:([a-zA-Z0-9-_]+):([0-9]+)$/;
const FUNCTION_LAYERS_PATTERN_TEXT =
  "[Member must have length less than or equal to 140, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: (arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+), Member must not be null]";
const GET_BY_ARN_PATTERN_TEXT = "arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1}:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+";

/** A layer named in a path: its name, and the owner and region when it was given as an ARN. */
export interface LayerRef {
  name: string;
  accountId?: string;
  region?: string;
}

export interface LayerVersionRef extends LayerRef {
  accountId: string;
  region: string;
  version: number;
}

export interface PublishLayerInput {
  zipFile: Buffer;
  description: string;
  licenseInfo?: string;
  compatibleRuntimes?: string[];
  compatibleArchitectures?: string[];
}

export interface LayerListFilters {
  compatibleRuntime?: string;
  compatibleArchitecture?: string;
  marker?: string;
  maxItems: number;
}

type Json = Record<string, unknown>;

const listText = (v: unknown[]): string => `[${v.map(String).join(", ")}]`;
const fieldError = (value: string, field: string, rule: string): string => `Value '${value}' at '${field}' failed to satisfy constraint: ${rule}`;
const detected = (errors: string[]): KilnError =>
  validation(`${errors.length} validation error${errors.length > 1 ? "s" : ""} detected: ${errors.join("; ")}`);

export function parseLayerName(raw: string): LayerRef {
  const m = raw.length >= 1 && raw.length <= LAYER_NAME_MAX ? LAYER_NAME.exec(raw) : null;
  if (!m) throw detected([fieldError(raw, "layerName", `Member must satisfy regular expression pattern: ${LAYER_NAME_PATTERN_TEXT}`)]);
  if (m[4] !== undefined) return { name: m[4] };
  return { name: m[3]!, accountId: m[2]!, region: m[1]! };
}

/** A layer version ARN (function `Layers` entries, GetLayerVersionByArn); undefined when it is not one. */
export function parseLayerVersionArn(raw: string): LayerVersionRef | undefined {
  const m = raw.length <= LAYER_NAME_MAX ? LAYER_VERSION_ARN.exec(raw) : null;
  if (!m) return undefined;
  return { region: m[1]!, accountId: m[2]!, name: m[3]!, version: Number(m[4]) };
}

export function parseArnParameter(raw: string | null): LayerVersionRef {
  const ref = raw === null ? undefined : parseLayerVersionArn(raw);
  if (!ref) throw detected([fieldError(raw ?? "null", "arn", `Member must satisfy regular expression pattern: ${GET_BY_ARN_PATTERN_TEXT}`)]);
  return ref;
}

/** `{VersionNumber}` of a path. */
export function parseVersionNumber(raw: string): number {
  if (!/^-?\d{1,18}$/.test(raw)) throw detected([fieldError(raw, "versionNumber", "Member must be a number")]);
  const n = Number(raw);
  if (n < 1) throw invalidParameter("Layer Version Cannot be less than 1");
  return n;
}

function stringList(body: Json, key: string): string[] | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw invalidParameter(`Invalid type for parameter ${key}, valid types: list of strings`);
  return v as string[];
}

function optionalString(body: Json, key: string, field: string, max: number): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw invalidParameter(`Invalid type for parameter ${key}, value: ${JSON.stringify(v)}, type: ${typeof v}, valid types: string`);
  if (v.length > max) throw detected([fieldError(v, field, `Member must have length less than or equal to ${max}`)]);
  return v;
}

/** CompatibleRuntimes and CompatibleArchitectures, reported together as AWS does. */
function compatibility(runtimes: string[] | undefined, architectures: string[] | undefined): void {
  const errors: string[] = [];
  if (runtimes !== undefined) {
    if (runtimes.length > COMPATIBLE_RUNTIMES_MAX) {
      errors.push(fieldError(listText(runtimes), "compatibleRuntimes", `Member must have length less than or equal to ${COMPATIBLE_RUNTIMES_MAX}`));
    } else if (runtimes.some((r) => !(LAYER_RUNTIMES as readonly string[]).includes(r))) {
      errors.push(fieldError(listText(runtimes), "compatibleRuntimes", `Member must satisfy enum value set: ${listText([...LAYER_RUNTIMES])}`));
    }
  }
  if (architectures !== undefined) {
    if (architectures.length > COMPATIBLE_ARCHITECTURES_MAX) {
      errors.push(fieldError(listText(architectures), "compatibleArchitectures", `Member must have length less than or equal to ${COMPATIBLE_ARCHITECTURES_MAX}`));
    } else if (architectures.some((a) => !(LAYER_ARCHITECTURES as readonly string[]).includes(a))) {
      errors.push(fieldError(listText(architectures), "compatibleArchitectures", "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64]]"));
    }
  }
  if (errors.length > 0) throw detected(errors);
}

export function validatePublishLayerVersion(body: Json, decodeZip: (b64: string) => Buffer): PublishLayerInput {
  const content = body.Content;
  if (content === undefined || content === null) throw detected(["Value null at 'content' failed to satisfy constraint: Member must not be null"]);
  if (typeof content !== "object" || Array.isArray(content)) throw invalidParameter("Invalid type for parameter Content, valid types: structure");
  const c = content as Json;
  if (c.S3Bucket !== undefined || c.S3Key !== undefined) throw invalidParameter("Code from S3 (S3Bucket/S3Key) is not supported by Kiln: upload the package as ZipFile.");
  if (typeof c.ZipFile !== "string" || c.ZipFile.length === 0) throw invalidParameter("Please provide a source for layer content.");
  const compatibleRuntimes = stringList(body, "CompatibleRuntimes");
  const compatibleArchitectures = stringList(body, "CompatibleArchitectures");
  compatibility(compatibleRuntimes, compatibleArchitectures);
  const out: PublishLayerInput = {
    zipFile: decodeZip(c.ZipFile),
    description: optionalString(body, "Description", "description", L.DESCRIPTION_MAX) ?? "",
  };
  const license = optionalString(body, "LicenseInfo", "licenseInfo", LICENSE_INFO_MAX);
  if (license !== undefined) out.licenseInfo = license;
  if (compatibleRuntimes !== undefined) out.compatibleRuntimes = compatibleRuntimes;
  if (compatibleArchitectures !== undefined) out.compatibleArchitectures = compatibleArchitectures;
  return out;
}

/** ListLayers / ListLayerVersions query parameters. */
export function validateLayerListFilters(query: URLSearchParams): LayerListFilters {
  const errors: string[] = [];
  const runtime = query.get("CompatibleRuntime") ?? undefined;
  const arch = query.get("CompatibleArchitecture") ?? undefined;
  if (arch !== undefined && !(LAYER_ARCHITECTURES as readonly string[]).includes(arch)) {
    errors.push(fieldError(arch, "compatibleArchitecture", "Member must satisfy enum value set: [x86_64, arm64]"));
  }
  if (runtime !== undefined && !(LAYER_RUNTIMES as readonly string[]).includes(runtime)) {
    errors.push(fieldError(runtime, "compatibleRuntime", `Member must satisfy enum value set: ${listText([...LAYER_RUNTIMES])}`));
  }
  const rawMax = query.get("MaxItems");
  let maxItems = LAYER_LIST_MAX_ITEMS;
  if (rawMax !== null) {
    const n = Number(rawMax);
    if (!Number.isInteger(n)) errors.push(fieldError(rawMax, "maxItems", "Member must be a number"));
    else if (n < 1) errors.push(fieldError(rawMax, "maxItems", "Member must have value greater than or equal to 1"));
    else if (n > LAYER_LIST_MAX_ITEMS) errors.push(fieldError(rawMax, "maxItems", `Member must have value less than or equal to ${LAYER_LIST_MAX_ITEMS}`));
    else maxItems = n;
  }
  if (errors.length > 0) throw detected(errors);
  const out: LayerListFilters = { maxItems };
  if (runtime !== undefined) out.compatibleRuntime = runtime;
  if (arch !== undefined) out.compatibleArchitecture = arch;
  const marker = query.get("Marker");
  if (marker) out.marker = marker;
  return out;
}

/**
 * The `Layers` of CreateFunction / UpdateFunctionConfiguration: a list of layer version ARNs.
 * Only the shape and count here; existence and permission are the registry's.
 */
export function validateFunctionLayers(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw invalidParameter("Invalid type for parameter Layers, valid types: list of strings");
  const arns = v as string[];
  if (arns.length > FUNCTION_LAYERS_MAX) throw invalidParameter(`Cannot reference more than ${FUNCTION_LAYERS_MAX} layers.`);
  for (const arn of arns) {
    if (arn.length < 1 || parseLayerVersionArn(arn) === undefined) {
      throw detected([fieldError(`[${arn}]`, "layers", `Member must satisfy constraint: ${FUNCTION_LAYERS_PATTERN_TEXT}`)]);
    }
  }
  return arns;
}

export const layerArn = (region: string, accountId: string, name: string): string => `arn:aws:lambda:${region}:${accountId}:layer:${name}`;
export const layerVersionArn = (region: string, accountId: string, name: string, version: number): string => `${layerArn(region, accountId, name)}:${version}`;
