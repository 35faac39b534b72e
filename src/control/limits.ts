/** Lambda quotas Kiln mirrors (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). */
export const MEMORY_MIN_MB = 128;
export const MEMORY_MAX_MB = 10_240;
export const TIMEOUT_MIN_S = 1;
export const TIMEOUT_MAX_S = 900;
export const DEFAULT_TIMEOUT_S = 3;
export const DEFAULT_MEMORY_MB = 128;
export const ENV_VARS_MAX_BYTES = 4096;
export const ZIPPED_MAX_BYTES = 52_428_800;
export const UNZIPPED_MAX_BYTES = 262_144_000;
export const EPHEMERAL_MIN_MB = 512;
export const EPHEMERAL_MAX_MB = 10_240;
export const DESCRIPTION_MAX = 256;
export const LIST_MAX_ITEMS = 50;
/** Total code storage per account (GetAccountSettings AccountLimit.TotalCodeSize). */
export const TOTAL_CODE_SIZE = 80_530_636_800;

/** Environment keys Lambda reserves for itself. */
export const RESERVED_ENV_KEYS = new Set([
  "_HANDLER",
  "_X_AMZN_TRACE_ID",
  "AWS_DEFAULT_REGION",
  "AWS_REGION",
  "AWS_EXECUTION_ENV",
  "AWS_LAMBDA_FUNCTION_NAME",
  "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
  "AWS_LAMBDA_FUNCTION_VERSION",
  "AWS_LAMBDA_INITIALIZATION_TYPE",
  "AWS_LAMBDA_LOG_GROUP_NAME",
  "AWS_LAMBDA_LOG_STREAM_NAME",
  "AWS_ACCESS_KEY",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_LAMBDA_RUNTIME_API",
  "LAMBDA_TASK_ROOT",
  "LAMBDA_RUNTIME_DIR",
  "TZ",
]);
/** Reserved and provisioned concurrency must leave this much of the account limit unreserved. */
export const MIN_UNRESERVED_CONCURRENCY = 100;
/** Tags per function (https://docs.aws.amazon.com/lambda/latest/dg/configuration-tags.html). */
export const TAGS_MAX = 50;
