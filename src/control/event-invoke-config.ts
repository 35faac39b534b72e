/**
 * Event invoke configs (asynchronous invocation settings of a function, version or alias): the
 * record, Lambda's wire shape, and pure validation of Put/UpdateFunctionEventInvokeConfig
 * bodies with AWS's messages (AWS-validated LocalStack snapshots, `test_lambda_eventinvokeconfig_exceptions`).
 */
import { KilnError, invalidParameter } from "../base/index.js";
import { functionArn } from "./names.js";
import { constraint, int } from "./validation.js";

/** https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionEventInvokeConfig.html */
export const MAXIMUM_RETRY_ATTEMPTS_MAX = 2;
export const MAXIMUM_EVENT_AGE_MIN_S = 60;
export const MAXIMUM_EVENT_AGE_MAX_S = 21_600;
/** What applies when a function has no config (invocation-async-error-handling). */
export const DEFAULT_MAXIMUM_RETRY_ATTEMPTS = 2;
export const DEFAULT_MAXIMUM_EVENT_AGE_S = 21_600;
export const EVENT_INVOKE_CONFIG_LIST_MAX = 50;

export const DESTINATION_PATTERN = /^$|^arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9-])+:([a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)$/;
const DESTINATION_PATTERN_TEXT = "^$|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)";

export interface EventInvokeConfigRecord {
  accountId: string;
  functionName: string;
  /** "$LATEST", a version or an alias. */
  qualifier: string;
  maximumRetryAttempts?: number;
  maximumEventAgeInSeconds?: number;
  /** Destination ARNs. */
  onSuccess?: string;
  onFailure?: string;
  lastModified: number;
}

export type DestinationSide = "onSuccess" | "onFailure";

/** A validated request body. A destination side that is present but empty removes it. */
export interface EventInvokeConfigInput {
  maximumRetryAttempts?: number;
  maximumEventAgeInSeconds?: number;
  destinations?: Partial<Record<DestinationSide, string>>;
}

type Json = Record<string, unknown>;

function side(config: Json, key: "OnSuccess" | "OnFailure", field: DestinationSide): string | undefined {
  const v = config[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v)) throw invalidParameter(`Invalid type for parameter DestinationConfig.${key}, valid types: structure`);
  const d = (v as Json).Destination;
  if (d === undefined || d === null) return "";
  if (typeof d !== "string") throw invalidParameter(`Invalid type for parameter DestinationConfig.${key}.Destination, valid types: string`);
  if (d.length > 350 || !DESTINATION_PATTERN.test(d)) {
    throw constraint(d, `destinationConfig.${field}.destination`, `Member must satisfy regular expression pattern: ${DESTINATION_PATTERN_TEXT}`);
  }
  return d;
}

export function validateEventInvokeConfig(body: Json): EventInvokeConfigInput {
  if ((body.MaximumRetryAttempts ?? null) === null && (body.MaximumEventAgeInSeconds ?? null) === null && (body.DestinationConfig ?? null) === null) {
    throw invalidParameter("You must specify at least one of error handling or destination setting.");
  }
  const out: EventInvokeConfigInput = {};
  const retries = int(body, "MaximumRetryAttempts", "maximumRetryAttempts", 0, MAXIMUM_RETRY_ATTEMPTS_MAX);
  if (retries !== undefined) out.maximumRetryAttempts = retries;
  const age = int(body, "MaximumEventAgeInSeconds", "maximumEventAgeInSeconds", MAXIMUM_EVENT_AGE_MIN_S, MAXIMUM_EVENT_AGE_MAX_S);
  if (age !== undefined) out.maximumEventAgeInSeconds = age;
  const dc = body.DestinationConfig;
  if (dc !== undefined && dc !== null) {
    if (typeof dc !== "object" || Array.isArray(dc)) throw invalidParameter("Invalid type for parameter DestinationConfig, valid types: structure");
    const destinations: Partial<Record<DestinationSide, string>> = {};
    const onSuccess = side(dc as Json, "OnSuccess", "onSuccess");
    const onFailure = side(dc as Json, "OnFailure", "onFailure");
    if (onSuccess !== undefined) destinations.onSuccess = onSuccess;
    if (onFailure !== undefined) destinations.onFailure = onFailure;
    out.destinations = destinations;
  }
  return out;
}

/** AWS's message for a destination whose service cannot be a destination at all. */
export function invalidDestinationConfig(onSuccess: string | undefined, onFailure: string | undefined): KilnError {
  const part = (name: string, d: string | undefined) => (d ? `${name}(destination=${d})` : "null");
  return invalidParameter(`The provided destination config DestinationConfig(onSuccess=${part("OnSuccess", onSuccess)}, onFailure=${part("OnFailure", onFailure)}) is invalid.`);
}

const NOT_YET: Record<string, string> = { sqs: "SQS queues", sns: "SNS topics", events: "EventBridge event buses", s3: "S3 buckets" };

/** The service of a destination ARN, refusing the ones Kiln cannot deliver to yet. */
export function destinationService(arn: string, onSuccess: string | undefined, onFailure: string | undefined): "lambda" {
  const service = arn.split(":")[2] ?? "";
  if (service === "lambda") return "lambda";
  const name = NOT_YET[service];
  if (name) throw invalidParameter(`Kiln cannot deliver to ${name} yet: use a Lambda function ARN as the destination (see the README's compatibility table).`);
  throw invalidDestinationConfig(onSuccess, onFailure);
}

/** FunctionEventInvokeConfig as the API returns it; LastModified is epoch seconds. */
export function toEventInvokeConfigWire(rec: EventInvokeConfigRecord, region: string): Record<string, unknown> {
  const out: Record<string, unknown> = {
    LastModified: rec.lastModified / 1000,
    FunctionArn: functionArn(region, rec.accountId, rec.functionName, rec.qualifier),
  };
  if (rec.maximumRetryAttempts !== undefined) out.MaximumRetryAttempts = rec.maximumRetryAttempts;
  if (rec.maximumEventAgeInSeconds !== undefined) out.MaximumEventAgeInSeconds = rec.maximumEventAgeInSeconds;
  out.DestinationConfig = {
    OnSuccess: rec.onSuccess ? { Destination: rec.onSuccess } : {},
    OnFailure: rec.onFailure ? { Destination: rec.onFailure } : {},
  };
  return out;
}
