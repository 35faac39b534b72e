/**
 * The environment a function sees, built from scratch as Lambda builds it: the platform's
 * variables, then the user's (which may not override reserved keys; control validates that).
 * Nothing is inherited from the host.
 */
import { RUNTIME_API_ADDRESS, type RuntimeName } from "../sandbox/index.js";

export interface VariablesInput {
  functionName: string;
  version: string;
  memoryMB: number;
  region: string;
  handler: string;
  runtime: RuntimeName;
  logGroup: string;
  logStream: string;
  user: Record<string, string>;
  /** AWS_LAMBDA_INITIALIZATION_TYPE (default "on-demand"; "snap-start" for SnapStart snapshots and restores). */
  initializationType?: "on-demand" | "provisioned-concurrency" | "snap-start";
}

const PATH = "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin";
const LD_LIBRARY_PATH = "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib";

export function functionEnvironment(v: VariablesInput): Record<string, string> {
  const env: Record<string, string> = {
    ...v.user,
    _HANDLER: v.handler,
    AWS_REGION: v.region,
    AWS_DEFAULT_REGION: v.region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${v.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: v.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: v.version,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(v.memoryMB),
    AWS_LAMBDA_INITIALIZATION_TYPE: v.initializationType ?? "on-demand",
    AWS_LAMBDA_LOG_GROUP_NAME: v.logGroup,
    AWS_LAMBDA_LOG_STREAM_NAME: v.logStream,
    AWS_LAMBDA_RUNTIME_API: RUNTIME_API_ADDRESS,
    AWS_XRAY_CONTEXT_MISSING: "LOG_ERROR",
    LAMBDA_TASK_ROOT: "/var/task",
    LAMBDA_RUNTIME_DIR: "/var/runtime",
    LANG: "en_US.UTF-8",
    TZ: ":UTC",
    PATH,
    LD_LIBRARY_PATH,
    HOME: "/tmp",
  };
  if (v.runtime.startsWith("nodejs")) {
    env.NODE_PATH = "/opt/nodejs/node20/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task";
  }
  if (v.runtime.startsWith("python")) {
    env.PYTHONPATH = "/var/runtime";
  }
  return env;
}

/** The variables every function of a runtime shares, read by the runtime at process start. */
const SHARED_AT_START = ["AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "LANG", "TZ", "PATH", "LD_LIBRARY_PATH", "HOME", "NODE_PATH", "PYTHONPATH"];

/** Tells a runtime to boot without a function and wait for its specialization (see src/runtimes). */
export const AWAIT_SPECIALIZATION_VARIABLE = "_KILN_AWAIT_SPECIALIZATION";

/**
 * The environment a pre-initialized runtime boots with: exactly the platform's variables that
 * every function of the runtime gets and that a runtime reads at process start (so its start
 * matches a fresh spawn's), plus the marker that makes it wait. At specialization the runtime
 * replaces all of it with the function's environment.
 */
export function poolBootEnvironment(runtime: RuntimeName): Record<string, string> {
  const all = functionEnvironment({ functionName: "", version: "", memoryMB: 0, region: "", handler: "", runtime, logGroup: "", logStream: "", user: {} });
  const env: Record<string, string> = {};
  for (const k of SHARED_AT_START) if (all[k] !== undefined) env[k] = all[k];
  env[AWAIT_SPECIALIZATION_VARIABLE] = "1";
  return env;
}

/** `2026/11/29/[$LATEST]0123abcd...` — Lambda's log stream naming. */
export function logStreamName(now: number, version: string, environmentId: string): string {
  const d = new Date(now);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())}/[${version}]${environmentId}`;
}
