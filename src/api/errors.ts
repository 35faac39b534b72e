/** The one table from error codes to Lambda's wire errors (status, Type, message key). */
import type { ServerResponse } from "node:http";
import { KilnError, type LambdaErrorCode } from "../base/index.js";

interface WireError {
  status: number;
  /** Lambda's shapes mostly say `Message`; a few (TooManyRequestsException) say `message`. */
  messageKey: "Message" | "message";
  typed: boolean;
}

const TABLE: Record<LambdaErrorCode, WireError> = {
  InvalidParameterValueException: { status: 400, messageKey: "Message", typed: true },
  ResourceNotFoundException: { status: 404, messageKey: "Message", typed: true },
  ResourceConflictException: { status: 409, messageKey: "Message", typed: true },
  ResourceInUseException: { status: 400, messageKey: "Message", typed: true },
  PreconditionFailedException: { status: 412, messageKey: "message", typed: true },
  ProvisionedConcurrencyConfigNotFoundException: { status: 404, messageKey: "message", typed: true },
  TooManyRequestsException: { status: 429, messageKey: "message", typed: true },
  ServiceException: { status: 500, messageKey: "Message", typed: true },
  CodeStorageExceededException: { status: 400, messageKey: "message", typed: true },
  RequestTooLargeException: { status: 413, messageKey: "message", typed: true },
  RequestEntityTooLargeException: { status: 413, messageKey: "message", typed: true },
  UnsupportedMediaTypeException: { status: 415, messageKey: "message", typed: true },
  InvalidRequestContentException: { status: 400, messageKey: "message", typed: true },
  InvalidZipFileException: { status: 502, messageKey: "Message", typed: true },
  InvalidRuntimeException: { status: 502, messageKey: "Message", typed: true },
  ResourceNotReadyException: { status: 502, messageKey: "message", typed: true },
  ValidationException: { status: 400, messageKey: "message", typed: false },
  UnrecognizedClientException: { status: 403, messageKey: "message", typed: false },
  InvalidSignatureException: { status: 403, messageKey: "message", typed: false },
  IncompleteSignatureException: { status: 403, messageKey: "message", typed: false },
  MissingAuthenticationTokenException: { status: 403, messageKey: "message", typed: false },
  AccessDeniedException: { status: 403, messageKey: "Message", typed: false },
  UnknownOperationException: { status: 404, messageKey: "message", typed: false },
};

export function toKilnError(e: unknown): KilnError {
  if (e instanceof KilnError) return e;
  return new KilnError("ServiceException", "An internal error occurred. The request id identifies it in the server log.", { cause: e });
}

/** Writes a Lambda REST-JSON error: x-amzn-ErrorType + x-amzn-RequestId + {Type, Message}. */
export function sendLambdaError(res: ServerResponse, err: KilnError, requestId: string): void {
  const wire = TABLE[err.code];
  const body: Record<string, string> = { ...err.fields };
  if (wire.typed) body.Type = err.kind;
  body[wire.messageKey] = err.message;
  const data = Buffer.from(JSON.stringify(body));
  const headers: Record<string, string | number> = {
    "Content-Type": "application/json",
    "Content-Length": data.length,
    "x-amzn-ErrorType": err.code,
    "x-amzn-RequestId": requestId,
  };
  if (err.code === "TooManyRequestsException") headers["Retry-After"] = "1";
  if (!res.headersSent) res.writeHead(wire.status, headers);
  res.end(data);
}

/** Writes a JSON 1.1 error (CloudWatch Logs protocol): {__type, message}. */
export function sendJson11Error(res: ServerResponse, err: KilnError, requestId: string): void {
  const wire = TABLE[err.code];
  const data = Buffer.from(JSON.stringify({ __type: err.code, message: err.message }));
  if (!res.headersSent) {
    res.writeHead(wire.status, { "Content-Type": "application/x-amz-json-1.1", "Content-Length": data.length, "x-amzn-RequestId": requestId });
  }
  res.end(data);
}
