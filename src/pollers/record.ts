/**
 * Lambda's invocation record, the payload a destination function receives (invocation-async-
 * retain-records): what was asked, how it ended and, when the function ran, what it answered.
 *
 *   {"version":"1.0","timestamp":"2026-01-01T00:00:00.000Z",
 *    "requestContext":{"requestId":"…","functionArn":"arn:aws:lambda:…:function:f:$LATEST",
 *                      "condition":"RetriesExhausted","approximateInvokeCount":3},
 *    "requestPayload":{…},
 *    "responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},
 *    "responsePayload":{"errorType":"Error","errorMessage":"boom",…}}
 *
 * Pure. Payloads that are not JSON (responses need not be) are carried as strings.
 */

export type RecordCondition = "Success" | "RetriesExhausted" | "EventAgeExceeded";

export interface RecordInput {
  requestId: string;
  /** Qualified ARN of the invoked function (…:$LATEST when invoked unqualified). */
  functionArn: string;
  condition: RecordCondition;
  approximateInvokeCount: number;
  requestPayload: Buffer;
  /** The last answer of the function, when it ran in this attempt. */
  response?: { payload: Buffer; executedVersion: string; functionError?: string };
  timestamp: number;
}

export function invocationRecord(r: RecordInput): Buffer {
  const record: Record<string, unknown> = {
    version: "1.0",
    timestamp: new Date(r.timestamp).toISOString(),
    requestContext: { requestId: r.requestId, functionArn: r.functionArn, condition: r.condition, approximateInvokeCount: r.approximateInvokeCount },
    requestPayload: jsonOrText(r.requestPayload),
  };
  if (r.response) {
    record.responseContext = {
      statusCode: 200,
      executedVersion: r.response.executedVersion,
      ...(r.response.functionError ? { functionError: r.response.functionError } : {}),
    };
    record.responsePayload = jsonOrText(r.response.payload);
  }
  return Buffer.from(JSON.stringify(record));
}

function jsonOrText(b: Buffer): unknown {
  const text = b.toString("utf8");
  if (text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** "ErrorType: message" of a function error payload, for drop records and logs. */
export function errorSummary(payload: Buffer): string {
  const v = jsonOrText(payload);
  if (v && typeof v === "object") {
    const o = v as { errorType?: unknown; errorMessage?: unknown };
    const type = typeof o.errorType === "string" ? o.errorType : "Error";
    const msg = typeof o.errorMessage === "string" ? o.errorMessage : "";
    return `${type}: ${msg}`.slice(0, 500);
  }
  return String(v).slice(0, 500);
}
