import { test } from "node:test";
import assert from "node:assert/strict";
import { KilnError } from "../base/index.js";
import { testRegistry, type TestRegistry } from "./registry.test-support.js";

const A = "000000000000";
const ARN = "arn:aws:lambda:us-east-1:000000000000:function:f";
const f = { name: "f" };
const rejects = (p: Promise<unknown>, code: string, message: string) =>
  assert.rejects(p, (e: unknown) => e instanceof KilnError && e.code === code && e.message === message, `${code}: ${message}`);

/** f with versions 1 ("v1") and 2 ("v2"). */
async function twoVersions(): Promise<TestRegistry> {
  const t = await testRegistry();
  await t.create("f", "v1");
  await t.registry.versions.publish(A, f, {});
  await t.registry.updateCode(A, f, { zipFile: Buffer.from("v2"), dryRun: false, publish: false });
  await t.registry.settled();
  await t.registry.versions.publish(A, f, {});
  return t;
}

test("CreateAlias: AWS's errors in AWS's order, nothing written on error", async () => {
  const t = await twoVersions();
  try {
    const a = t.registry.aliases;
    const pattern = (v: string) =>
      `1 validation error detected: Value '${v}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)`;
    await rejects(a.create(A, f, { Name: "1", FunctionVersion: "1" }), "ValidationException", pattern("1"));
    await rejects(a.create(A, f, { Name: "$LATEST", FunctionVersion: "1" }), "ValidationException", pattern("$LATEST"));
    await rejects(a.create(A, f, { Name: "live" }), "ValidationException", "1 validation error detected: Value null at 'functionVersion' failed to satisfy constraint: Member must not be null");
    await rejects(a.create(A, f, { Name: "live", FunctionVersion: "7" }), "ResourceNotFoundException", `Function not found: ${ARN}:7`);
    await rejects(a.create(A, { name: "g" }, { Name: "live", FunctionVersion: "1" }), "ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:000000000000:function:g");
    await rejects(
      a.create(A, f, { Name: "live", FunctionVersion: "1", RoutingConfig: { AdditionalVersionWeights: { "2": 0.1, "3": 0.1 } } }),
      "InvalidParameterValueException",
      "Number of items in AdditionalVersionWeights cannot be greater than 1",
    );
    await rejects(a.create(A, f, { Name: "live", FunctionVersion: "1", RoutingConfig: { AdditionalVersionWeights: { "9": 0.1 } } }), "ResourceNotFoundException", `Function not found: ${ARN}:9`);
    assert.deepEqual(await a.all(A, "f"), [], "no alias was written by a refused call");

    const live = await a.create(A, f, { Name: "live", FunctionVersion: "1", Description: "prod", RoutingConfig: { AdditionalVersionWeights: { "2": 0.3 } } });
    assert.deepEqual(live.additionalVersion, { version: "2", weight: 0.3 });
    await rejects(a.create(A, f, { Name: "live", FunctionVersion: "2" }), "ResourceConflictException", `Alias already exists: ${ARN}:live`);
    assert.equal((await a.get(A, f, "live")).functionVersion, "1", "the refused duplicate changed nothing");
    await rejects(a.get(A, f, "nope"), "ResourceNotFoundException", `Cannot find alias arn: ${ARN}:nope`);
  } finally {
    await t.close();
  }
});

test("invokes through an alias: primary or additional version by weight; $LATEST aliases follow updates", async () => {
  const t = await twoVersions();
  try {
    const r = t.registry;
    await r.aliases.create(A, f, { Name: "live", FunctionVersion: "1", RoutingConfig: { AdditionalVersionWeights: { "2": 0.3 } } });
    const plan = await r.resolvePlan(A, f, "live");
    assert.equal(plan.primary.executedVersion, "1");
    assert.equal(plan.additional?.fn.executedVersion, "2");
    assert.equal(plan.additional?.weight, 0.3);
    assert.equal(plan.primary.invokedArn, `${ARN}:live`);
    assert.notEqual(plan.primary.configKey, plan.additional?.fn.configKey, "each version has its own environments");
    assert.equal((await r.resolve(A, f, "live", () => 0.29)).executedVersion, "2");
    assert.equal((await r.resolve(A, f, "live", () => 0.3)).executedVersion, "1");
    assert.equal((await r.get(A, f, "live")).version, "1", "GetFunction through an alias shows its primary version");

    await r.aliases.create(A, f, { Name: "dev", FunctionVersion: "$LATEST" });
    const dev = await r.resolvePlan(A, f, "dev");
    assert.equal(dev.primary.executedVersion, "$LATEST");
    assert.equal(dev.primary.configKey, (await r.resolvePlan(A, f)).primary.configKey, "an alias of $LATEST shares $LATEST's environments");
    await rejects(r.resolvePlan(A, f, "nope"), "ResourceNotFoundException", `Function not found: ${ARN}:nope`);
    await rejects(r.resolvePlan(A, f, "9"), "ResourceNotFoundException", `Function not found: ${ARN}:9`);
  } finally {
    await t.close();
  }
});

test("UpdateAlias: RevisionId, version and routing changes; DeleteAlias; versions in use cannot be deleted", async () => {
  const t = await twoVersions();
  try {
    const a = t.registry.aliases;
    const live = await a.create(A, f, { Name: "live", FunctionVersion: "1", RoutingConfig: { AdditionalVersionWeights: { "2": 0.5 } } });
    await rejects(
      a.update(A, f, "live", { FunctionVersion: "2", RevisionId: "stale" }),
      "PreconditionFailedException",
      "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
    );
    await rejects(
      a.update(A, f, "live", { FunctionVersion: "2" }),
      "InvalidParameterValueException",
      "Invalid function version 2. Function version 2 is already included in routing configuration.",
    );
    await rejects(t.registry.delete(A, f, "2"), "ResourceConflictException", "Unable to delete version because the following aliases reference it: [live]");
    await rejects(t.registry.delete(A, f, "1"), "ResourceConflictException", "Unable to delete version because the following aliases reference it: [live]");
    const moved = await a.update(A, f, "live", { FunctionVersion: "2", RoutingConfig: {}, RevisionId: live.revisionId });
    assert.equal(moved.functionVersion, "2");
    assert.equal(moved.additionalVersion, undefined);
    assert.notEqual(moved.revisionId, live.revisionId);
    assert.equal((await a.update(A, f, "live", { Description: "d" })).functionVersion, "2", "a description-only update keeps the version");
    await rejects(a.update(A, f, "nope", {}), "ResourceNotFoundException", `Cannot find alias arn: ${ARN}:nope`);
    await rejects(t.registry.delete(A, f, "live"), "InvalidParameterValueException", "Deletion of aliases is not supported by DeleteFunction: use DeleteAlias.");

    await t.registry.delete(A, f, "1");
    await a.delete(A, f, "live");
    await rejects(a.delete(A, f, "live"), "ResourceNotFoundException", `Cannot find alias arn: ${ARN}:live`);
    await t.registry.delete(A, f, "2");
  } finally {
    await t.close();
  }
});

test("ListAliases filters by FunctionVersion and pages", async () => {
  const t = await twoVersions();
  try {
    const a = t.registry.aliases;
    for (const [n, v] of [["a1", "1"], ["a2", "2"], ["a3", "1"], ["a4", "$LATEST"]] as const) await a.create(A, f, { Name: n, FunctionVersion: v });
    assert.deepEqual((await a.list(A, f, { functionVersion: "1", maxItems: 50 })).aliases.map((x) => x.name), ["a1", "a3"]);
    const p1 = await a.list(A, f, { maxItems: 3 });
    assert.deepEqual(p1.aliases.map((x) => x.name), ["a1", "a2", "a3"]);
    const p2 = await a.list(A, f, { maxItems: 3, ...(p1.nextMarker ? { marker: p1.nextMarker } : {}) });
    assert.deepEqual(p2.aliases.map((x) => x.name), ["a4"]);
    assert.equal(p2.nextMarker, undefined);
  } finally {
    await t.close();
  }
});

test("provisioned concurrency: versions and aliases only, conflicts, limits; reserved concurrency floor", async () => {
  const t = await twoVersions();
  try {
    const c = t.registry.concurrency;
    await t.registry.aliases.create(A, f, { Name: "live", FunctionVersion: "1" });
    await t.registry.aliases.create(A, f, { Name: "dev", FunctionVersion: "$LATEST" });
    const unpublished = "Provisioned Concurrency Configs cannot be applied to unpublished function versions.";
    await rejects(c.putProvisioned(A, f, "$LATEST", 1), "InvalidParameterValueException", unpublished);
    await rejects(c.putProvisioned(A, f, "dev", 1), "InvalidParameterValueException", unpublished);
    await rejects(c.putProvisioned(A, f, "9", 1), "ResourceNotFoundException", `Function not found: ${ARN}:9`);
    await rejects(c.putProvisioned(A, f, "nope", 1), "ResourceNotFoundException", `Cannot find alias arn: ${ARN}:nope`);
    await rejects(c.getProvisioned(A, f, "$LATEST"), "InvalidParameterValueException", "The function resource provided must be an alias or a published version.");
    await rejects(c.getProvisioned(A, f, "live"), "ProvisionedConcurrencyConfigNotFoundException", "No Provisioned Concurrency Config found for this function");

    const rec = await c.putProvisioned(A, f, "live", 3);
    assert.equal(rec.requested, 3);
    await rejects(c.putProvisioned(A, f, "1", 1), "ResourceConflictException", "Version is pointed by a Provisioned Concurrency alias");
    await c.putProvisioned(A, f, "2", 2);
    await t.registry.aliases.create(A, f, { Name: "next", FunctionVersion: "2" });
    await rejects(c.putProvisioned(A, f, "next", 1), "ResourceConflictException", "Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version");
    assert.equal(await c.unreserved(A), 1000 - 5);
    assert.ok(t.changes.some((x) => x.kind === "concurrency" && x.provisioned === 5));

    await rejects(
      c.putReserved(A, f, 4),
      "InvalidParameterValueException",
      " ReservedConcurrentExecutions  4 should not be lower than function's total provisioned concurrency [5].",
    );
    await c.putReserved(A, f, 10);
    assert.equal(await c.unreserved(A), 990, "a reservation contains the function's provisioned concurrency");
    await rejects(c.putProvisioned(A, f, "2", 8), "InvalidParameterValueException", "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function");
    await t.create("g");
    await rejects(
      c.putReserved(A, { name: "g" }, 891),
      "InvalidParameterValueException",
      "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].",
    );
    await c.putReserved(A, { name: "g" }, 890);
    assert.equal(await c.unreserved(A), 100);
    await c.deleteReserved(A, { name: "g" });
    await c.deleteProvisioned(A, f, "live");
    await c.deleteProvisioned(A, f, "live");
    assert.deepEqual((await c.listProvisioned(A, "f")).map((x) => x.qualifier), ["2"]);
    await t.registry.aliases.delete(A, f, "next");
    await t.registry.delete(A, f, "2");
    assert.equal(await c.findProvisioned(A, "f", "2"), undefined, "deleting a version drops its configuration");
  } finally {
    await t.close();
  }
});

test("tags: function ARNs only, merged, removed, limited to 50", async () => {
  const t = await testRegistry();
  try {
    const tags = t.registry.tags;
    await t.create("f");
    await tags.tag(A, ARN, { team: "kiln", env: "test" });
    await tags.tag(A, ARN, { env: "prod" });
    assert.deepEqual(await tags.list(A, ARN), { team: "kiln", env: "prod" });
    await tags.untag(A, ARN, ["team", "missing"]);
    assert.deepEqual(await tags.list(A, ARN), { env: "prod" });
    await rejects(tags.tag(A, `${ARN}:1`, { a: "b" }), "InvalidParameterValueException", "Tags on function aliases and versions are not supported. Please specify a function ARN.");
    await assert.rejects(tags.list(A, "f"), (e: unknown) => e instanceof KilnError && e.code === "ValidationException" && /Value 'f' at 'resource'/.test(e.message));
    await rejects(tags.list(A, `${ARN}x`), "ResourceNotFoundException", `Function not found: ${ARN}x`);
    const many = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, "v"]));
    await rejects(tags.tag(A, ARN, many), "InvalidParameterValueException", "Number of tags exceeds resource tag limit.");
    assert.deepEqual(await tags.list(A, ARN), { env: "prod" }, "a refused tagging changed nothing");
    const before = await t.registry.get(A, f);
    await tags.tag(A, ARN, { a: "1" });
    assert.equal((await t.registry.get(A, f)).revisionId, before.revisionId, "tags do not change what runs");
  } finally {
    await t.close();
  }
});
