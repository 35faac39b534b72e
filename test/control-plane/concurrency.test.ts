/**
 * Concurrency controls end to end through @aws-sdk/client-lambda: reserved concurrency (Put/Get/
 * DeleteFunctionConcurrency, the 100-unreserved floor, enforcement by counting with AWS's
 * throttle reasons, GetAccountSettings figures) and provisioned concurrency (Put/Get/Delete/List
 * on versions and aliases, IN_PROGRESS -> READY, Allocated = real environments, invokes use them
 * first and show no Init Duration, and they come back after a restart).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  CreateAliasCommand,
  DeleteAliasCommand,
  DeleteFunctionConcurrencyCommand,
  DeleteProvisionedConcurrencyConfigCommand,
  GetAccountSettingsCommand,
  GetFunctionCommand,
  GetFunctionConcurrencyCommand,
  GetProvisionedConcurrencyConfigCommand,
  InvokeCommand,
  ListProvisionedConcurrencyConfigsCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  PutProvisionedConcurrencyConfigCommand,
  type GetProvisionedConcurrencyConfigCommandOutput,
  type LambdaClient,
} from "@aws-sdk/client-lambda";
import { startKiln, type TestKiln } from "../support/kiln.js";
import { rejectsAws } from "../support/aws-errors.js";
import { arnOf, invoke, reporterSource } from "./fixtures.js";

const BELOW_FLOOR = "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].";

describe("reserved and provisioned concurrency through the AWS SDK", { timeout: 150_000 }, () => {
  let t: TestKiln;
  let c: LambdaClient;

  const unreserved = async () => (await c.send(new GetAccountSettingsCommand({}))).AccountLimit?.UnreservedConcurrentExecutions;
  /** Environments of one version of a function on this server: all, and those kept provisioned. */
  const environments = (name: string, version: string) => {
    const all = t.kiln.assignment.table.all().filter((e) => e.configKey.startsWith(`000000000000/${name}/${version}/`));
    return { all: all.length, provisioned: all.filter((e) => e.provisioned).length };
  };
  const waitReady = async (FunctionName: string, Qualifier: string): Promise<GetProvisionedConcurrencyConfigCommandOutput> => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const got = await c.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName, Qualifier }));
      if (got.Status === "READY" || Date.now() > deadline) return got;
      assert.equal(got.Status, "IN_PROGRESS");
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  before(async () => {
    t = await startKiln();
    c = t.client();
    for (const name of ["rc", "other", "pc"]) await t.deploy(name, "nodejs20.x", "index.handler", { "index.js": reporterSource(name) });
  });

  after(async () => {
    await t?.stop();
  });

  test("Put/Get/DeleteFunctionConcurrency, seen by GetFunction and GetAccountSettings", async () => {
    assert.equal((await c.send(new GetFunctionConcurrencyCommand({ FunctionName: "rc" }))).ReservedConcurrentExecutions, undefined);
    assert.equal(await unreserved(), 1000);
    const put = await c.send(new PutFunctionConcurrencyCommand({ FunctionName: "rc", ReservedConcurrentExecutions: 50 }));
    assert.equal(put.$metadata.httpStatusCode, 200);
    assert.equal(put.ReservedConcurrentExecutions, 50);
    assert.equal((await c.send(new GetFunctionConcurrencyCommand({ FunctionName: arnOf("rc") }))).ReservedConcurrentExecutions, 50);
    assert.deepEqual((await c.send(new GetFunctionCommand({ FunctionName: "rc" }))).Concurrency, { ReservedConcurrentExecutions: 50 });
    assert.equal(await unreserved(), 950);
    await c.send(new PutFunctionConcurrencyCommand({ FunctionName: "rc", ReservedConcurrentExecutions: 80 }));
    assert.equal(await unreserved(), 920, "a new reservation replaces the old one");
    const del = await c.send(new DeleteFunctionConcurrencyCommand({ FunctionName: "rc" }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    assert.equal((await c.send(new GetFunctionConcurrencyCommand({ FunctionName: "rc" }))).ReservedConcurrentExecutions, undefined);
    assert.equal((await c.send(new GetFunctionCommand({ FunctionName: "rc" }))).Concurrency, undefined);
    assert.equal(await unreserved(), 1000);
  });

  test("bad input: qualified names, the 100-unreserved floor, negative values, unknown functions; nothing changed", async () => {
    await rejectsAws(c.send(new PutFunctionConcurrencyCommand({ FunctionName: "rc:1", ReservedConcurrentExecutions: 5 })), {
      name: "InvalidParameterValueException",
      status: 400,
      message:
        "This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. Please specify either a function name or an unqualified function ARN.",
    });
    await rejectsAws(c.send(new PutFunctionConcurrencyCommand({ FunctionName: "rc", ReservedConcurrentExecutions: 901 })), { name: "InvalidParameterValueException", status: 400, message: BELOW_FLOOR });
    await c.send(new PutFunctionConcurrencyCommand({ FunctionName: "other", ReservedConcurrentExecutions: 800 }));
    await rejectsAws(c.send(new PutFunctionConcurrencyCommand({ FunctionName: "rc", ReservedConcurrentExecutions: 101 })), { name: "InvalidParameterValueException", status: 400, message: BELOW_FLOOR });
    await c.send(new PutFunctionConcurrencyCommand({ FunctionName: "rc", ReservedConcurrentExecutions: 100 }));
    assert.equal(await unreserved(), 100, "exactly 100 left is allowed");
    await c.send(new DeleteFunctionConcurrencyCommand({ FunctionName: "other" }));
    await rejectsAws(c.send(new PutFunctionConcurrencyCommand({ FunctionName: "rc", ReservedConcurrentExecutions: -1 })), {
      name: "ValidationException",
      status: 400,
      message: "1 validation error detected: Value '-1' at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 0",
    });
    await rejectsAws(c.send(new PutFunctionConcurrencyCommand({ FunctionName: "nope", ReservedConcurrentExecutions: 1 })), { name: "ResourceNotFoundException", status: 404, message: `Function not found: ${arnOf("nope")}` });
    assert.equal((await c.send(new GetFunctionConcurrencyCommand({ FunctionName: "rc" }))).ReservedConcurrentExecutions, 100, "refused calls changed nothing");
    assert.equal(await unreserved(), 900);
  });

  test("counting enforces reservations: 0 throttles every invoke, 1 lets one run at a time, other functions unaffected", async () => {
    await c.send(new PutFunctionConcurrencyCommand({ FunctionName: "rc", ReservedConcurrentExecutions: 0 }));
    const throttled = await rejectsAws(c.send(new InvokeCommand({ FunctionName: "rc" })), { name: "TooManyRequestsException", status: 429, message: "Rate Exceeded." });
    assert.equal((throttled as unknown as { Reason?: string }).Reason, "ReservedFunctionConcurrentInvocationLimitExceeded");
    assert.equal((await invoke(c, { FunctionName: "other" })).body.code, "other");

    await c.send(new PutFunctionConcurrencyCommand({ FunctionName: "rc", ReservedConcurrentExecutions: 1 }));
    const slow = invoke(c, { FunctionName: "rc", payload: { sleepMs: 1500 } });
    await new Promise((r) => setTimeout(r, 500));
    const second = await rejectsAws(c.send(new InvokeCommand({ FunctionName: "rc" })), { name: "TooManyRequestsException", status: 429, message: "Rate Exceeded." });
    assert.equal((second as unknown as { Reason?: string }).Reason, "ReservedFunctionConcurrentInvocationLimitExceeded");
    assert.equal((await slow).body.code, "rc");
    assert.equal((await invoke(c, { FunctionName: "rc" })).body.code, "rc", "the slot is free again");
    await c.send(new DeleteFunctionConcurrencyCommand({ FunctionName: "rc" }));
    assert.equal(await unreserved(), 1000);
  });

  test("provisioned concurrency bad input: $LATEST, unknown versions and aliases, aliases of $LATEST, 0", async () => {
    await c.send(new PublishVersionCommand({ FunctionName: "pc" }));
    await c.send(new CreateAliasCommand({ FunctionName: "pc", Name: "dev", FunctionVersion: "$LATEST" }));
    const put = (Qualifier: string, n = 1) => c.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: "pc", Qualifier, ProvisionedConcurrentExecutions: n }));
    const unpublished = { name: "InvalidParameterValueException", status: 400, message: "Provisioned Concurrency Configs cannot be applied to unpublished function versions." };
    await rejectsAws(put("$LATEST"), unpublished);
    await rejectsAws(put("dev"), unpublished);
    await rejectsAws(put("9"), { name: "ResourceNotFoundException", status: 404, message: `Function not found: ${arnOf("pc", "9")}` });
    await rejectsAws(put("nope"), { name: "ResourceNotFoundException", status: 404, message: `Cannot find alias arn: ${arnOf("pc", "nope")}` });
    await rejectsAws(put("1", 0), {
      name: "ValidationException",
      status: 400,
      message: "1 validation error detected: Value '0' at 'provisionedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 1",
    });
    await rejectsAws(put("1", 901), {
      name: "InvalidParameterValueException",
      status: 400,
      message: "Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].",
    });
    await rejectsAws(c.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: "pc", Qualifier: "$LATEST" })), {
      name: "InvalidParameterValueException",
      status: 400,
      message: "The function resource provided must be an alias or a published version.",
    });
    await rejectsAws(c.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: "pc", Qualifier: "1" })), {
      name: "ProvisionedConcurrencyConfigNotFoundException",
      status: 404,
      message: "No Provisioned Concurrency Config found for this function",
    });
    assert.deepEqual((await c.send(new ListProvisionedConcurrencyConfigsCommand({ FunctionName: "pc" }))).ProvisionedConcurrencyConfigs, []);
    assert.equal(await unreserved(), 1000);
  });

  test("PutProvisionedConcurrencyConfig on a version: 202 IN_PROGRESS, then READY with 2 real, warm environments that invokes use first", async () => {
    const put = await c.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: "pc", Qualifier: "1", ProvisionedConcurrentExecutions: 2 }));
    assert.equal(put.$metadata.httpStatusCode, 202);
    assert.equal(put.RequestedProvisionedConcurrentExecutions, 2);
    assert.equal(put.Status, "IN_PROGRESS");
    assert.match(put.LastModified ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    const ready = await waitReady("pc", "1");
    const readyAt = Date.now();
    assert.equal(ready.Status, "READY");
    assert.equal(ready.AllocatedProvisionedConcurrentExecutions, 2);
    assert.equal(ready.AvailableProvisionedConcurrentExecutions, 2);
    assert.deepEqual(environments("pc", "1"), { all: 2, provisioned: 2 }, "Allocated counts real environments");
    assert.equal(await unreserved(), 998, "provisioned concurrency comes out of the unreserved pool");

    const [a, b] = await Promise.all([invoke(c, { FunctionName: "pc:1", payload: { sleepMs: 400 } }), invoke(c, { FunctionName: "pc", Qualifier: "1", payload: { sleepMs: 400 } })]);
    for (const r of [a!, b!]) {
      assert.equal(r.body.initType, "provisioned-concurrency");
      assert.ok(r.body.initAt <= readyAt, "the environment initialized before the invoke arrived");
      assert.doesNotMatch(r.log, /Init Duration/, "the first invoke of a provisioned environment reports no Init Duration");
      assert.match(r.log, /REPORT RequestId: /);
    }
    assert.notEqual(a!.body.instance, b!.body.instance, "two concurrent invokes used the two provisioned environments");
    assert.deepEqual(environments("pc", "1"), { all: 2, provisioned: 2 }, "no on-demand environment was created");
    const third = await invoke(c, { FunctionName: "pc:1" });
    assert.ok([a!.body.instance, b!.body.instance].includes(third.body.instance));

    const onDemand = await invoke(c, { FunctionName: "pc" });
    assert.equal(onDemand.body.initType, "on-demand");
    assert.match(onDemand.log, /Init Duration: [\d.]+ ms/, "an on-demand cold start does report its Init Duration");

    const list = await c.send(new ListProvisionedConcurrencyConfigsCommand({ FunctionName: "pc" }));
    assert.equal(list.ProvisionedConcurrencyConfigs?.length, 1);
    const item = list.ProvisionedConcurrencyConfigs![0]!;
    assert.equal(item.FunctionArn, arnOf("pc", "1"));
    assert.equal(item.Status, "READY");
    assert.equal(item.AllocatedProvisionedConcurrentExecutions, 2);
  });

  test("aliases: one provisioned configuration per version; reserved concurrency must cover it; DeleteAlias removes it", async () => {
    await c.send(new CreateAliasCommand({ FunctionName: "pc", Name: "live", FunctionVersion: "1" }));
    await rejectsAws(c.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: "pc", Qualifier: "live", ProvisionedConcurrentExecutions: 1 })), {
      name: "ResourceConflictException",
      status: 409,
      message: "Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version",
    });
    const del = await c.send(new DeleteProvisionedConcurrencyConfigCommand({ FunctionName: "pc", Qualifier: "1" }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    assert.deepEqual(environments("pc", "1").provisioned, 0, "without a configuration the environments are on-demand ones");

    await c.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: "pc:live", Qualifier: "live", ProvisionedConcurrentExecutions: 1 }));
    await rejectsAws(c.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: "pc", Qualifier: "1", ProvisionedConcurrentExecutions: 1 })), {
      name: "ResourceConflictException",
      status: 409,
      message: "Version is pointed by a Provisioned Concurrency alias",
    });
    const ready = await waitReady("pc", "live");
    assert.equal(ready.AllocatedProvisionedConcurrentExecutions, 1);
    assert.equal(environments("pc", "1").provisioned, 1);
    const r = await invoke(c, { FunctionName: "pc:live" });
    assert.equal(r.body.initType, "provisioned-concurrency");

    await rejectsAws(c.send(new PutFunctionConcurrencyCommand({ FunctionName: "pc", ReservedConcurrentExecutions: 0 })), {
      name: "InvalidParameterValueException",
      status: 400,
      message: " ReservedConcurrentExecutions  0 should not be lower than function's total provisioned concurrency [1].",
    });
    await c.send(new PutFunctionConcurrencyCommand({ FunctionName: "pc", ReservedConcurrentExecutions: 5 }));
    assert.equal(await unreserved(), 995, "the reservation contains the provisioned concurrency");
    await c.send(new DeleteFunctionConcurrencyCommand({ FunctionName: "pc" }));

    await c.send(new DeleteAliasCommand({ FunctionName: "pc", Name: "live" }));
    assert.deepEqual((await c.send(new ListProvisionedConcurrencyConfigsCommand({ FunctionName: "pc" }))).ProvisionedConcurrencyConfigs, []);
    assert.equal(environments("pc", "1").provisioned, 0);
    assert.equal(await unreserved(), 1000);
  });

  test("after a restart, provisioned environments are initialized again and reservations still hold", async () => {
    await c.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: "pc", Qualifier: "1", ProvisionedConcurrentExecutions: 1 }));
    await c.send(new PutFunctionConcurrencyCommand({ FunctionName: "rc", ReservedConcurrentExecutions: 0 }));
    await waitReady("pc", "1");
    const dataDir = t.dataDir;
    await t.stop({ keepData: true });
    t = await startKiln({}, dataDir);
    c = t.client();
    const ready = await waitReady("pc", "1");
    assert.equal(ready.Status, "READY");
    assert.equal(ready.AllocatedProvisionedConcurrentExecutions, 1);
    const r = await invoke(c, { FunctionName: "pc:1" });
    assert.equal(r.body.initType, "provisioned-concurrency");
    assert.doesNotMatch(r.log, /Init Duration/);
    const throttled = await rejectsAws(c.send(new InvokeCommand({ FunctionName: "rc" })), { name: "TooManyRequestsException", status: 429, message: "Rate Exceeded." });
    assert.equal((throttled as unknown as { Reason?: string }).Reason, "ReservedFunctionConcurrentInvocationLimitExceeded");
    assert.equal(await unreserved(), 999);
  });
});
