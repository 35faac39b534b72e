import { test } from "node:test";
import assert from "node:assert/strict";
import { KilnError } from "../base/index.js";
import { validateDeadLetterConfig } from "./dead-letter.js";
import { destinationService, toEventInvokeConfigWire, validateEventInvokeConfig } from "./event-invoke-config.js";

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return e instanceof KilnError ? `${e.code}: ${e.message}` : String(e);
  }
  return "ok";
};

test("event invoke config bodies: at least one setting, AWS's ranges, destinations given or cleared", () => {
  assert.equal(code(() => validateEventInvokeConfig({})), "InvalidParameterValueException: You must specify at least one of error handling or destination setting.");
  assert.deepEqual(validateEventInvokeConfig({ MaximumRetryAttempts: 0 }), { maximumRetryAttempts: 0 });
  assert.deepEqual(validateEventInvokeConfig({ MaximumEventAgeInSeconds: 60, MaximumRetryAttempts: 2 }), { maximumEventAgeInSeconds: 60, maximumRetryAttempts: 2 });
  assert.match(code(() => validateEventInvokeConfig({ MaximumRetryAttempts: -1 })), /^ValidationException: .*'maximumRetryAttempts'.*greater than or equal to 0/);
  assert.match(code(() => validateEventInvokeConfig({ MaximumRetryAttempts: 1.5 })), /^InvalidParameterValueException: Invalid type for parameter MaximumRetryAttempts/);
  assert.match(code(() => validateEventInvokeConfig({ MaximumEventAgeInSeconds: 21_601 })), /less than or equal to 21600/);
  assert.deepEqual(validateEventInvokeConfig({ DestinationConfig: {} }), { destinations: {} });
  assert.deepEqual(validateEventInvokeConfig({ DestinationConfig: { OnSuccess: {}, OnFailure: { Destination: "arn:aws:lambda:us-east-1:000000000000:function:f" } } }), {
    destinations: { onSuccess: "", onFailure: "arn:aws:lambda:us-east-1:000000000000:function:f" },
  });
  assert.match(code(() => validateEventInvokeConfig({ DestinationConfig: { OnSuccess: { Destination: "not-an-arn" } } })), /'destinationConfig.onSuccess.destination'/);
});

test("destination services: Lambda yes; SQS, SNS, EventBridge and S3 not yet; others invalid", () => {
  assert.equal(destinationService("arn:aws:lambda:us-east-1:000000000000:function:f", undefined, undefined), "lambda");
  for (const [svc, name] of [["sqs", "SQS queues"], ["sns", "SNS topics"], ["events", "EventBridge event buses"], ["s3", "S3 buckets"]]) {
    assert.match(code(() => destinationService(`arn:aws:${svc}:us-east-1:000000000000:x`, undefined, "x")), new RegExp(`Kiln cannot deliver to ${name} yet`));
  }
  assert.equal(
    code(() => destinationService("arn:aws:iam::000000000000:role/r", undefined, "arn:aws:iam::000000000000:role/r")),
    "InvalidParameterValueException: The provided destination config DestinationConfig(onSuccess=null, onFailure=OnFailure(destination=arn:aws:iam::000000000000:role/r)) is invalid.",
  );
});

test("the wire shape: epoch-second LastModified, qualified ARN, both destination sides", () => {
  const w = toEventInvokeConfigWire({ accountId: "000000000000", functionName: "f", qualifier: "$LATEST", maximumRetryAttempts: 1, onFailure: "arn:x", lastModified: 1_700_000_000_123 }, "us-east-1");
  assert.deepEqual(w, {
    LastModified: 1_700_000_000.123,
    FunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST",
    MaximumRetryAttempts: 1,
    DestinationConfig: { OnSuccess: {}, OnFailure: { Destination: "arn:x" } },
  });
});

test("DeadLetterConfig: a function ARN is taken, empty removes, queues and topics are not there yet", () => {
  assert.equal(validateDeadLetterConfig({ TargetArn: "arn:aws:lambda:us-east-1:000000000000:function:dlq" }), "arn:aws:lambda:us-east-1:000000000000:function:dlq");
  assert.equal(validateDeadLetterConfig({}), "");
  assert.equal(validateDeadLetterConfig({ TargetArn: "" }), "");
  assert.match(code(() => validateDeadLetterConfig({ TargetArn: "arn:aws:sqs:us-east-1:000000000000:q" })), /SQS queues yet/);
  assert.match(code(() => validateDeadLetterConfig({ TargetArn: "arn:aws:sns:us-east-1:000000000000:t" })), /SNS topics yet/);
  assert.match(code(() => validateDeadLetterConfig({ TargetArn: "arn:aws:lambda:us-east-1:000000000000:layer:x" })), /is invalid/);
  assert.match(code(() => validateDeadLetterConfig({ TargetArn: "nope" })), /^ValidationException/);
  assert.match(code(() => validateDeadLetterConfig("x")), /valid types: structure/);
});
