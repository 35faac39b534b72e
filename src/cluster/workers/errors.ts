/**
 * Errors of the worker node protocol. The server maps them to statuses once (wire.ts); the client
 * turns statuses back into the same classes, so callers test `instanceof` on either side.
 */

/** The environment is not (or no longer) on that worker: assignment must forget it. HTTP 410. */
export class EnvironmentGoneError extends Error {
  readonly code = "EnvironmentGone";
  readonly retryable = true;
  constructor(readonly workerId: string, readonly environmentId: string, detail?: string) {
    super(`execution environment ${environmentId} is gone from worker ${workerId}${detail ? `: ${detail}` : ""}; acquire another environment and retry`);
    this.name = "EnvironmentGoneError";
  }
}

/** The worker is draining (lease ending or asked to): it takes no new environments. HTTP 503. */
export class WorkerDrainingError extends Error {
  readonly code = "WorkerDraining";
  readonly retryable = true;
  constructor(readonly workerId: string) {
    super(`worker ${workerId} is draining and takes no new execution environments; place the environment on another worker`);
    this.name = "WorkerDrainingError";
  }
}

/**
 * The worker could not be reached, or the connection broke mid-call (refused, reset, timed out,
 * or the worker left the directory): the worker was lost. The call did not complete here and can
 * be retried on another environment.
 */
export class WorkerUnreachableError extends Error {
  readonly code = "WorkerUnreachable";
  readonly retryable = true;
  constructor(readonly workerId: string, what: string, options?: { cause?: unknown }) {
    super(`worker ${workerId} was lost (${what}); the call did not complete and can be retried on another worker`, options);
    this.name = "WorkerUnreachableError";
  }
}

/** Any other refusal by a worker node (bad request, failed create, refused signature). */
export class WorkerRequestError extends Error {
  constructor(readonly workerId: string, readonly status: number, readonly code: string, message: string) {
    super(`worker ${workerId} answered ${status} ${code}: ${message}`);
    this.name = "WorkerRequestError";
  }
}
