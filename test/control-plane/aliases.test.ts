/**
 * Aliases end to end through @aws-sdk/client-lambda: Create/Get/Update/Delete/ListAliases, AWS's
 * validation errors (nothing changed on error), weighted routing checked statistically and
 * reported in X-Amz-Executed-Version, per-version warm environments behind one alias, and an
 * alias moving while an invoke through it is in flight.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  CreateAliasCommand,
  DeleteAliasCommand,
  GetAliasCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  ListAliasesCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  waitUntilFunctionUpdatedV2,
  type LambdaClient,
} from "@aws-sdk/client-lambda";
import { startKiln, type TestKiln } from "../support/kiln.js";
import { rejectsAws } from "../support/aws-errors.js";
import { signedFetch } from "../support/signed-fetch.js";
import { arnOf, invoke, pool, reporterSource, reporterZip } from "./fixtures.js";

describe("aliases through the AWS SDK", { timeout: 150_000 }, () => {
  let t: TestKiln;
  let c: LambdaClient;

  before(async () => {
    t = await startKiln();
    c = t.client();
    await t.deploy("al", "nodejs20.x", "index.handler", { "index.js": reporterSource("v1") });
    await c.send(new PublishVersionCommand({ FunctionName: "al" }));
    await c.send(new UpdateFunctionCodeCommand({ FunctionName: "al", ZipFile: await reporterZip("v2") }));
    await waitUntilFunctionUpdatedV2({ client: c, maxWaitTime: 30, minDelay: 1 }, { FunctionName: "al" });
    await c.send(new PublishVersionCommand({ FunctionName: "al" }));
    await c.send(new UpdateFunctionCodeCommand({ FunctionName: "al", ZipFile: await reporterZip("v3") }));
    await waitUntilFunctionUpdatedV2({ client: c, maxWaitTime: 30, minDelay: 1 }, { FunctionName: "al" });
  });

  after(async () => {
    await t?.stop();
  });

  test("CreateAlias (201), GetAlias, invoking the alias runs its version with the alias ARN", async () => {
    const created = await c.send(new CreateAliasCommand({ FunctionName: "al", Name: "live", FunctionVersion: "1", Description: "production" }));
    assert.equal(created.$metadata.httpStatusCode, 201);
    assert.equal(created.AliasArn, arnOf("al", "live"));
    assert.equal(created.Name, "live");
    assert.equal(created.FunctionVersion, "1");
    assert.equal(created.Description, "production");
    assert.equal(created.RoutingConfig, undefined);
    assert.match(created.RevisionId ?? "", /^[0-9a-f-]{36}$/);
    const got = await c.send(new GetAliasCommand({ FunctionName: arnOf("al"), Name: "live" }));
    assert.deepEqual({ ...got, $metadata: undefined }, { ...created, $metadata: undefined });

    const r = await invoke(c, { FunctionName: "al:live" });
    assert.equal(r.executedVersion, "1");
    assert.equal(r.body.code, "v1");
    const viaParam = await invoke(c, { FunctionName: "al", Qualifier: "live" });
    assert.equal(viaParam.body.code, "v1");
    const cfg = await c.send(new GetFunctionConfigurationCommand({ FunctionName: "al", Qualifier: "live" }));
    assert.equal(cfg.Version, "1");
    assert.equal(cfg.FunctionArn, arnOf("al", "live"));

    const dev = await c.send(new CreateAliasCommand({ FunctionName: "al", Name: "dev", FunctionVersion: "$LATEST" }));
    assert.equal(dev.FunctionVersion, "$LATEST");
    const d = await invoke(c, { FunctionName: "al:dev" });
    assert.deepEqual([d.executedVersion, d.body.code], ["$LATEST", "v3"]);
  });

  test("bad input: AWS's exception, status and message; nothing created or changed", async () => {
    const weights = (w: Record<string, number>, FunctionVersion = "1", Name = "bad") => c.send(new CreateAliasCommand({ FunctionName: "al", Name, FunctionVersion, RoutingConfig: { AdditionalVersionWeights: w } }));
    const outOfRange = (v: string) =>
      `1 validation error detected: Value '{2=${v}}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]`;
    await rejectsAws(weights({ "2": 1.5 }), { name: "ValidationException", status: 400, message: outOfRange("1.5") });
    await rejectsAws(weights({ "2": -0.2 }), { name: "ValidationException", status: 400, message: outOfRange("-0.2") });
    await rejectsAws(weights({ "2": 0.1, "3": 0.1 }), { name: "InvalidParameterValueException", status: 400, message: "Number of items in AdditionalVersionWeights cannot be greater than 1" });
    await rejectsAws(weights({ "1": 0.5 }), {
      name: "InvalidParameterValueException",
      status: 400,
      message: "Invalid function version 1. Function version 1 is already included in routing configuration.",
    });
    await rejectsAws(weights({ "2": 0.5 }, "$LATEST"), { name: "InvalidParameterValueException", status: 400, message: "$LATEST is not supported for an alias pointing to more than 1 version" });
    await rejectsAws(weights({ "9": 0.5 }), { name: "ResourceNotFoundException", status: 404, message: `Function not found: ${arnOf("al", "9")}` });
    for (const Name of ["1", "42"]) {
      await rejectsAws(c.send(new CreateAliasCommand({ FunctionName: "al", Name, FunctionVersion: "1" })), {
        name: "ValidationException",
        status: 400,
        message: `1 validation error detected: Value '${Name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)`,
      });
    }
    await rejectsAws(c.send(new CreateAliasCommand({ FunctionName: "al", Name: "bad", FunctionVersion: "7" })), { name: "ResourceNotFoundException", status: 404, message: `Function not found: ${arnOf("al", "7")}` });
    await rejectsAws(c.send(new CreateAliasCommand({ FunctionName: "nope", Name: "bad", FunctionVersion: "1" })), { name: "ResourceNotFoundException", status: 404, message: `Function not found: ${arnOf("nope")}` });
    await rejectsAws(c.send(new CreateAliasCommand({ FunctionName: "al", Name: "live", FunctionVersion: "2" })), { name: "ResourceConflictException", status: 409, message: `Alias already exists: ${arnOf("al", "live")}` });
    await rejectsAws(c.send(new GetAliasCommand({ FunctionName: "al", Name: "bad" })), { name: "ResourceNotFoundException", status: 404, message: `Cannot find alias arn: ${arnOf("al", "bad")}` });
    await rejectsAws(c.send(new UpdateAliasCommand({ FunctionName: "al", Name: "live", FunctionVersion: "2", RevisionId: "00000000-0000-0000-0000-000000000000" })), {
      name: "PreconditionFailedException",
      status: 412,
      message: "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
    });
    await rejectsAws(c.send(new UpdateAliasCommand({ FunctionName: "al", Name: "live", RoutingConfig: { AdditionalVersionWeights: { "2": 7 } } })), {
      name: "ValidationException",
      status: 400,
      message: outOfRange("7.0"),
    });
    await rejectsAws(c.send(new InvokeCommand({ FunctionName: "al:bad" })), { name: "ResourceNotFoundException", status: 404, message: `Function not found: ${arnOf("al", "bad")}` });
    // A weight sent as a string never reaches the routing table.
    const raw = await signedFetch(t.url, {
      method: "POST",
      path: "/2015-03-31/functions/al/aliases",
      body: JSON.stringify({ Name: "bad", FunctionVersion: "1", RoutingConfig: { AdditionalVersionWeights: { "2": "half" } } }),
      headers: { "content-type": "application/json" },
    });
    assert.equal(raw.status, 400);
    assert.equal(raw.errorType, "ValidationException");

    const names = (await c.send(new ListAliasesCommand({ FunctionName: "al" }))).Aliases?.map((a) => a.Name);
    assert.deepEqual(names, ["dev", "live"], "no refused call created an alias");
    const live = await c.send(new GetAliasCommand({ FunctionName: "al", Name: "live" }));
    assert.equal(live.FunctionVersion, "1");
    assert.equal(live.RoutingConfig, undefined, "no refused call changed live");
  });

  test("weighted routing: 1,000 invokes at weight 0.3 run version 2 25-35% of the time, each reported in X-Amz-Executed-Version", async () => {
    const cur = await c.send(new GetAliasCommand({ FunctionName: "al", Name: "live" }));
    const updated = await c.send(new UpdateAliasCommand({ FunctionName: "al", Name: "live", RoutingConfig: { AdditionalVersionWeights: { "2": 0.3 } }, RevisionId: cur.RevisionId }));
    assert.deepEqual(updated.RoutingConfig?.AdditionalVersionWeights, { "2": 0.3 });
    assert.equal(updated.FunctionVersion, "1");
    assert.notEqual(updated.RevisionId, cur.RevisionId);

    const runs = await pool(1000, 4, () => invoke(c, { FunctionName: "al:live" }));
    const byVersion = new Map<string, number>();
    const instances = new Map<string, Set<string>>();
    for (const r of runs) {
      byVersion.set(r.executedVersion, (byVersion.get(r.executedVersion) ?? 0) + 1);
      assert.equal(r.body.code, r.executedVersion === "2" ? "v2" : "v1", "the reported version is the code that ran");
      const set = instances.get(r.executedVersion) ?? new Set<string>();
      set.add(r.body.instance);
      instances.set(r.executedVersion, set);
    }
    assert.deepEqual([...byVersion.keys()].sort(), ["1", "2"]);
    const share = (byVersion.get("2") ?? 0) / 1000;
    assert.ok(share >= 0.25 && share <= 0.35, `version 2 ran ${share * 100}% of invokes`);
    const shared = [...(instances.get("1") ?? [])].filter((i) => instances.get("2")?.has(i));
    assert.deepEqual(shared, [], "no environment ran both versions");
    assert.ok((instances.get("1")?.size ?? 0) <= 4 && (instances.get("2")?.size ?? 0) <= 4, "each version reuses its few warm environments");
  });

  test("ListAliases: all, by FunctionVersion, and in pages", async () => {
    await c.send(new CreateAliasCommand({ FunctionName: "al", Name: "canary", FunctionVersion: "2" }));
    const all = await c.send(new ListAliasesCommand({ FunctionName: "al" }));
    assert.deepEqual(all.Aliases?.map((a) => [a.Name, a.FunctionVersion]), [["canary", "2"], ["dev", "$LATEST"], ["live", "1"]]);
    assert.deepEqual(all.Aliases?.find((a) => a.Name === "live")?.RoutingConfig?.AdditionalVersionWeights, { "2": 0.3 });
    assert.deepEqual((await c.send(new ListAliasesCommand({ FunctionName: "al", FunctionVersion: "2" }))).Aliases?.map((a) => a.Name), ["canary"]);
    const p1 = await c.send(new ListAliasesCommand({ FunctionName: "al", MaxItems: 2 }));
    assert.deepEqual(p1.Aliases?.map((a) => a.Name), ["canary", "dev"]);
    const p2 = await c.send(new ListAliasesCommand({ FunctionName: "al", MaxItems: 2, Marker: p1.NextMarker }));
    assert.deepEqual(p2.Aliases?.map((a) => a.Name), ["live"]);
    assert.equal(p2.NextMarker, undefined);
  });

  test("moving an alias: the invoke in flight finishes on the old version, new invokes run the new one", async () => {
    await c.send(new UpdateAliasCommand({ FunctionName: "al", Name: "canary", FunctionVersion: "1" }));
    const slow = invoke(c, { FunctionName: "al:canary", payload: { sleepMs: 1500 } });
    await new Promise((r) => setTimeout(r, 300));
    const moved = await c.send(new UpdateAliasCommand({ FunctionName: "al", Name: "canary", FunctionVersion: "2" }));
    assert.equal(moved.FunctionVersion, "2");
    const next = await invoke(c, { FunctionName: "al:canary" });
    assert.deepEqual([next.executedVersion, next.body.code], ["2", "v2"]);
    const done = await slow;
    assert.deepEqual([done.executedVersion, done.body.code], ["1", "v1"]);
  });

  test("DeleteAlias (204): the alias is gone, its versions stay", async () => {
    const del = await c.send(new DeleteAliasCommand({ FunctionName: "al", Name: "canary" }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    await rejectsAws(c.send(new GetAliasCommand({ FunctionName: "al", Name: "canary" })), { name: "ResourceNotFoundException", status: 404, message: `Cannot find alias arn: ${arnOf("al", "canary")}` });
    await rejectsAws(c.send(new DeleteAliasCommand({ FunctionName: "al", Name: "canary" })), { name: "ResourceNotFoundException", status: 404, message: `Cannot find alias arn: ${arnOf("al", "canary")}` });
    assert.equal((await invoke(c, { FunctionName: "al:2" })).body.code, "v2");
  });
});
