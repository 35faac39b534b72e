/**
 * DeadLetterConfig of a function: where an asynchronous event goes when it fails for good. Lambda
 * takes an SQS queue or SNS topic ARN; Kiln takes a Lambda function ARN (the function receives
 * the original event, as a queue would hold it) and says plainly that queues and topics are not
 * there yet. Pure.
 */
import { invalidParameter, validation } from "../base/index.js";
import { parseFunctionRef } from "./names.js";

const TARGET_ARN_PATTERN = /^(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)?$/;

/** The TargetArn to store; "" removes the dead-letter target. */
export function validateDeadLetterConfig(v: unknown): string {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw invalidParameter("Invalid type for parameter DeadLetterConfig, valid types: structure");
  const arn = (v as Record<string, unknown>).TargetArn;
  if (arn === undefined || arn === null || arn === "") return "";
  if (typeof arn !== "string") throw invalidParameter(`Invalid type for parameter DeadLetterConfig.TargetArn, value: ${JSON.stringify(arn)}, valid types: string`);
  if (!TARGET_ARN_PATTERN.test(arn)) {
    throw validation(`1 validation error detected: Value '${arn}' at 'deadLetterConfig.targetArn' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()`);
  }
  const service = arn.split(":")[2];
  if (service === "sqs" || service === "sns") {
    throw invalidParameter(
      `Kiln cannot send dead letters to ${service === "sqs" ? "SQS queues" : "SNS topics"} yet: use a Lambda function ARN as DeadLetterConfig.TargetArn (see the README's compatibility table).`,
    );
  }
  const invalid = invalidParameter(`The provided target ARN ${arn} is invalid: Kiln takes a Lambda function ARN as DeadLetterConfig.TargetArn.`);
  if (service !== "lambda" || !arn.includes(":function:")) throw invalid;
  try {
    parseFunctionRef(arn, "deadLetterConfig.targetArn");
  } catch {
    throw invalid;
  }
  return arn;
}
