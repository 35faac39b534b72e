/**
 * Put/Get/Update/Delete/ListFunctionEventInvokeConfigs through the AWS SDK (and once the AWS CLI):
 * PUT replaces, POST merges, AWS's validation errors and messages, configs leave with their function.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  DeleteFunctionEventInvokeConfigCommand,
  GetFunctionEventInvokeConfigCommand,
  ListFunctionEventInvokeConfigsCommand,
  PutFunctionEventInvokeConfigCommand,
  UpdateFunctionEventInvokeConfigCommand,
  waitUntilFunctionActiveV2,
  type LambdaClient,
} from "@aws-sdk/client-lambda";
import { zipFiles } from "../../src/artifacts/index.js";
import { ROLE, startKiln, type TestKiln } from "../support/kiln.js";
import { rejectsAws } from "../support/aws-errors.js";

let k: TestKiln;
let c: LambdaClient;
const arn = (fn: string, q?: string) => `arn:aws:lambda:us-east-1:000000000000:function:${fn}${q ? ":" + q : ""}`;
const CODE = { "index.mjs": "export const handler = async () => 'ok';" };

before(async () => {
  k = await startKiln();
  c = k.client();
  await Promise.all(["fn", "other", "gone"].map((n) => k.deploy(n, "nodejs20.x", "index.handler", CODE)));
});
after(async () => k.stop());

describe("event invoke configs", () => {
  test("validation: AWS's errors and messages", async () => {
    await rejectsAws(c.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: "doesnotexist" })), {
      name: "InvalidParameterValueException",
      status: 400,
      message: "You must specify at least one of error handling or destination setting.",
    });
    await rejectsAws(c.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: "doesnotexist", MaximumRetryAttempts: 1 })), {
      name: "ResourceNotFoundException",
      status: 404,
      message: "The function doesn't exist.",
    });
    await rejectsAws(c.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: "fn", MaximumRetryAttempts: 3 })), {
      name: "ValidationException",
      status: 400,
      message: "1 validation error detected: Value '3' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 2",
    });
    await rejectsAws(c.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: "fn", MaximumEventAgeInSeconds: 59 })), {
      name: "ValidationException",
      status: 400,
      message: "1 validation error detected: Value '59' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60",
    });
    await rejectsAws(c.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: "fn", MaximumEventAgeInSeconds: 21_601 })), { name: "ValidationException", status: 400 });
    const dest = (d: string) => new PutFunctionEventInvokeConfigCommand({ FunctionName: "fn", DestinationConfig: { OnSuccess: { Destination: d } } });
    await rejectsAws(c.send(dest(arn("doesnotexist"))), { name: "InvalidParameterValueException", status: 400, message: `The destination ARN ${arn("doesnotexist")} is invalid.` });
    await rejectsAws(c.send(dest(arn("fn"))), { name: "InvalidParameterValueException", status: 400, message: "You can't specify the function as a destination for itself." });
    const iam = arn("other").replace(":lambda:", ":iam:");
    await rejectsAws(c.send(dest(iam)), {
      name: "InvalidParameterValueException",
      status: 400,
      message: `The provided destination config DestinationConfig(onSuccess=OnSuccess(destination=${iam}), onFailure=null) is invalid.`,
    });
    await rejectsAws(c.send(dest("arn:aws:sqs:us-east-1:000000000000:queue")), { name: "InvalidParameterValueException", status: 400, message: /Kiln cannot deliver to SQS queues yet/ });
    await rejectsAws(c.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: "fn", DestinationConfig: { OnFailure: { Destination: arn("other").replace(":lambda:", ":_-/!lambda:") } } })), {
      name: "ValidationException",
      status: 400,
      message: /at 'destinationConfig.onFailure.destination' failed to satisfy constraint: Member must satisfy regular expression pattern/,
    });
    await rejectsAws(c.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: "fn:1", Qualifier: "$LATEST", MaximumRetryAttempts: 1 })), {
      name: "InvalidParameterValueException",
      status: 400,
      message: "The derived qualifier from the function name does not match the specified qualifier.",
    });
  });

  test("PUT replaces, POST merges, GET reads; name forms and $LATEST", async () => {
    const put = await c.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: "fn", MaximumRetryAttempts: 1, DestinationConfig: { OnSuccess: { Destination: arn("other") } } }));
    assert.equal(put.FunctionArn, arn("fn", "$LATEST"));
    assert.equal(put.MaximumRetryAttempts, 1);
    assert.equal(put.MaximumEventAgeInSeconds, undefined);
    assert.deepEqual(put.DestinationConfig, { OnSuccess: { Destination: arn("other") }, OnFailure: {} });
    assert.ok(put.LastModified instanceof Date && Math.abs(put.LastModified.getTime() - Date.now()) < 60_000);
    const got = await c.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: arn("fn") }));
    assert.deepEqual({ ...got, $metadata: undefined }, { ...put, $metadata: undefined });

    const replaced = await c.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: "fn:$LATEST", MaximumEventAgeInSeconds: 120 }));
    assert.equal(replaced.MaximumRetryAttempts, undefined, "PUT removes what it does not name");
    assert.deepEqual(replaced.DestinationConfig, { OnSuccess: {}, OnFailure: {} });

    const merged = await c.send(new UpdateFunctionEventInvokeConfigCommand({ FunctionName: "fn", MaximumRetryAttempts: 0 }));
    assert.equal(merged.MaximumEventAgeInSeconds, 120, "POST keeps what it does not name");
    assert.equal(merged.MaximumRetryAttempts, 0);
    await c.send(new UpdateFunctionEventInvokeConfigCommand({ FunctionName: "fn", DestinationConfig: { OnFailure: { Destination: arn("other") } } }));
    const both = await c.send(new UpdateFunctionEventInvokeConfigCommand({ FunctionName: "fn", Qualifier: "$LATEST", DestinationConfig: { OnSuccess: { Destination: arn("gone") } } }));
    assert.deepEqual(both.DestinationConfig, { OnSuccess: { Destination: arn("gone") }, OnFailure: { Destination: arn("other") } });
    assert.equal(both.MaximumRetryAttempts, 0);

    const cleared = await c.send(new UpdateFunctionEventInvokeConfigCommand({ FunctionName: "fn", DestinationConfig: { OnSuccess: {} } }));
    assert.deepEqual(cleared.DestinationConfig, { OnSuccess: {}, OnFailure: { Destination: arn("other") } });

    const cli = await k.aws(["lambda", "get-function-event-invoke-config", "--function-name", "fn"]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal(JSON.parse(cli.stdout).MaximumEventAgeInSeconds, 120);
  });

  test("list, delete, and the not-found answers", async () => {
    await c.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: "other", MaximumRetryAttempts: 2 }));
    const list = await c.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: "other" }));
    assert.deepEqual(list.FunctionEventInvokeConfigs?.map((x) => [x.FunctionArn, x.MaximumRetryAttempts]), [[arn("other", "$LATEST"), 2]]);
    assert.equal(list.NextMarker, undefined);
    await rejectsAws(c.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: "other", MaxItems: 51 })), { name: "ValidationException", status: 400 });
    await rejectsAws(c.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: "doesnotexist" })), {
      name: "ResourceNotFoundException",
      status: 404,
      message: "The function doesn't exist.",
    });

    await c.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: "other" }));
    const missing = `The function ${arn("other", "$LATEST")} doesn't have an EventInvokeConfig`;
    await rejectsAws(c.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: "other" })), { name: "ResourceNotFoundException", status: 404, message: missing });
    await rejectsAws(c.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: "other" })), { name: "ResourceNotFoundException", status: 404, message: missing });
    await rejectsAws(c.send(new UpdateFunctionEventInvokeConfigCommand({ FunctionName: "other", MaximumRetryAttempts: 1 })), { name: "ResourceNotFoundException", status: 404, message: missing });
    await rejectsAws(c.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: "doesnotexist" })), {
      name: "ResourceNotFoundException",
      status: 404,
      message: `The function ${arn("doesnotexist", "$LATEST")} doesn't have an EventInvokeConfig`,
    });
    assert.deepEqual((await c.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: "other" }))).FunctionEventInvokeConfigs, []);
  });

  test("a function's configs are deleted with it", async () => {
    await c.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: "gone", MaximumRetryAttempts: 0 }));
    await c.send(new DeleteFunctionCommand({ FunctionName: "gone" }));
    await c.send(new CreateFunctionCommand({ FunctionName: "gone", Runtime: "nodejs20.x", Handler: "index.handler", Role: ROLE, Code: { ZipFile: await zipFiles(CODE) } }));
    await waitUntilFunctionActiveV2({ client: c, maxWaitTime: 30, minDelay: 1 }, { FunctionName: "gone" });
    for (let i = 0; i < 50; i++) {
      const l = await c.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: "gone" }));
      if (l.FunctionEventInvokeConfigs?.length === 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.fail("the old function's config survived it");
  });
});
