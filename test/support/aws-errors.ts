/** Assertions on AWS errors as the SDK surfaces them: error name, HTTP status, message. */
import assert from "node:assert/strict";

export interface ExpectedAwsError {
  name: string;
  status: number;
  /** Exact message, or a pattern it must match. */
  message?: string | RegExp;
}

type AwsError = Error & { $metadata?: { httpStatusCode?: number; requestId?: string } };

/** Awaits `p`, which must reject with an SDK service error of this name, status and message. */
export async function rejectsAws(p: Promise<unknown>, want: ExpectedAwsError): Promise<AwsError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof Error, `expected ${want.name} (${want.status}), but the call succeeded`);
  const err = caught as AwsError;
  assert.equal(err.name, want.name, `error name (message: ${err.message})`);
  assert.equal(err.$metadata?.httpStatusCode, want.status, `HTTP status of ${err.name}`);
  assert.match(err.$metadata?.requestId ?? "", /\S/, "every error carries the request id");
  if (typeof want.message === "string") assert.equal(err.message, want.message);
  else if (want.message) assert.match(err.message, want.message);
  return err;
}
