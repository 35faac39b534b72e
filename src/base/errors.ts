/**
 * Typed errors. Every failure a user can see is a KilnError whose `code` is the AWS Lambda error
 * code it surfaces as (ResourceNotFoundException, ...). The api component owns the one table that
 * maps codes to HTTP status and `Type`; nothing else decides wire shapes.
 */

export type ErrorKind = "User" | "Service";

export type LambdaErrorCode =
  | "InvalidParameterValueException"
  | "ResourceNotFoundException"
  | "ResourceConflictException"
  | "ResourceInUseException"
  | "PreconditionFailedException"
  | "ProvisionedConcurrencyConfigNotFoundException"
  | "TooManyRequestsException"
  | "ServiceException"
  | "CodeStorageExceededException"
  | "RequestTooLargeException"
  | "RequestEntityTooLargeException"
  | "UnsupportedMediaTypeException"
  | "InvalidRequestContentException"
  | "InvalidZipFileException"
  | "InvalidRuntimeException"
  | "ResourceNotReadyException"
  | "ValidationException"
  | "UnrecognizedClientException"
  | "InvalidSignatureException"
  | "IncompleteSignatureException"
  | "MissingAuthenticationTokenException"
  | "AccessDeniedException"
  | "UnknownOperationException";

export class KilnError extends Error {
  readonly code: LambdaErrorCode;
  readonly kind: ErrorKind;
  /** Extra top-level fields of the wire error body, e.g. `Reason` on throttles. */
  readonly fields: Record<string, string>;

  constructor(code: LambdaErrorCode, message: string, opts: { cause?: unknown; kind?: ErrorKind; fields?: Record<string, string> } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = code;
    this.code = code;
    this.kind = opts.kind ?? (code === "ServiceException" ? "Service" : "User");
    this.fields = opts.fields ?? {};
  }
}

export const isKilnError = (e: unknown): e is KilnError => e instanceof KilnError;

export const invalidParameter = (message: string): KilnError => new KilnError("InvalidParameterValueException", message);
export const validation = (message: string): KilnError => new KilnError("ValidationException", message);
export const notFound = (message: string): KilnError => new KilnError("ResourceNotFoundException", message);
export const conflict = (message: string): KilnError => new KilnError("ResourceConflictException", message);
