/**
 * How failures reach the terminal: one line (or two) on stderr, never a stack trace.
 * API errors print their AWS error code, message and request id; a refused connection says how
 * to start Kiln; usage errors point at the command's help. The exit code is 1 for failures and
 * 2 for bad usage.
 */
import { UsageError } from "./usage.js";
import { NoCredentialsError, TargetConfigError } from "./target.js";

/** An error answer from one of Kiln's endpoints (Lambda REST, Logs JSON 1.1, the admin API). */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly requestId: string | undefined;
  constructor(code: string, message: string, status: number, requestId?: string) {
    super(message);
    this.name = code;
    this.code = code;
    this.status = status;
    this.requestId = requestId;
  }
}

const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "ECONNRESET"]);

/** True when the error (or one of its causes) is a failure to connect at all. */
export function isUnreachable(e: unknown, depth = 0): boolean {
  if (typeof e !== "object" || e === null || depth > 4) return false;
  const err = e as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof err.code === "string" && UNREACHABLE_CODES.has(err.code)) return true;
  if (Array.isArray(err.errors) && err.errors.some((x) => isUnreachable(x, depth + 1))) return true;
  return isUnreachable(err.cause, depth + 1);
}

interface SdkServiceError {
  name: string;
  message: string;
  $metadata: { httpStatusCode?: number; requestId?: string };
}

function isSdkServiceError(e: unknown): e is SdkServiceError {
  if (!(e instanceof Error)) return false;
  const m = (e as Partial<SdkServiceError>).$metadata;
  return typeof m === "object" && m !== null && typeof m.httpStatusCode === "number";
}

export interface Report {
  message: string;
  exitCode: number;
}

/** The text and exit code for any error a command throws. `endpoint` names the server for connection errors. */
export function describeError(e: unknown, endpoint: string | undefined): Report {
  if (e instanceof UsageError) {
    const help = e.command ? `kiln ${e.command} --help` : "kiln help";
    return { message: `kiln: ${e.message}\nRun \`${help}\` for usage.`, exitCode: 2 };
  }
  if (isUnreachable(e)) {
    return { message: `kiln: Kiln is not reachable at ${endpoint ?? "the configured endpoint"}: start it with \`npm start\``, exitCode: 1 };
  }
  if (e instanceof NoCredentialsError || e instanceof TargetConfigError) return { message: `kiln: ${e.message}`, exitCode: 1 };
  if (e instanceof ApiError) return { message: `kiln: ${e.code}: ${e.message}${requestIdSuffix(e.requestId)}`, exitCode: 1 };
  if (isSdkServiceError(e)) {
    const message = e.message && e.message !== "UnknownError" ? e.message : `HTTP ${e.$metadata.httpStatusCode}`;
    return { message: `kiln: ${e.name}: ${message}${requestIdSuffix(e.$metadata.requestId)}`, exitCode: 1 };
  }
  if (e instanceof Error) return { message: `kiln: ${e.message}`, exitCode: 1 };
  return { message: `kiln: ${String(e)}`, exitCode: 1 };
}

function requestIdSuffix(id: string | undefined): string {
  return id ? ` (RequestId: ${id})` : "";
}
