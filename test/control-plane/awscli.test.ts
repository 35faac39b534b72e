/**
 * Versions, aliases, concurrency and tags with Debian's AWS CLI v2 (/usr/bin/aws) against a real
 * server: the commands a release script types, and how AWS's errors come out of the CLI. Each
 * CLI call costs about a second, so every step is one call and the steps build on each other.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { GetProvisionedConcurrencyConfigCommand } from "@aws-sdk/client-lambda";
import { ROLE, startKiln, writeScratch, type TestKiln } from "../support/kiln.js";
import { arnOf, reporterZip } from "./fixtures.js";

const FN = "cli-rel";

describe("AWS CLI v2: versions, aliases, concurrency, tags", { timeout: 120_000 }, () => {
  let t: TestKiln;

  async function ok(args: string[]): Promise<Record<string, any> | null> {
    const r = await t.aws(args);
    assert.equal(r.code, 0, `aws ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
    return r.stdout.trim() === "" ? null : (JSON.parse(r.stdout) as Record<string, any>);
  }

  /** Runs `aws ...`, which must fail with this AWS error code and operation; returns stderr. */
  async function fails(args: string[], code: string, operation: string): Promise<string> {
    const r = await t.aws(args);
    assert.notEqual(r.code, 0, `aws ${args.join(" ")} succeeded: ${r.stdout}`);
    assert.match(r.stderr, new RegExp(`An error occurred \\(${code}\\) when calling the ${operation} operation: `));
    return r.stderr;
  }

  before(async () => {
    t = await startKiln();
    const zip = writeScratch(t, "v1.zip", await reporterZip("v1"));
    writeScratch(t, "v2.zip", await reporterZip("v2"));
    await ok(["lambda", "create-function", "--function-name", FN, "--runtime", "nodejs20.x", "--handler", "index.handler", "--role", ROLE, "--zip-file", `fileb://${zip}`]);
    await ok(["lambda", "wait", "function-active-v2", "--function-name", FN]);
  });

  after(async () => {
    await t?.stop();
  });

  test("publish-version, update-function-code --publish, list-versions-by-function", async () => {
    const v1 = await ok(["lambda", "publish-version", "--function-name", FN, "--description", "first"]);
    assert.equal(v1?.Version, "1");
    assert.equal(v1?.FunctionArn, arnOf(FN, "1"));
    assert.equal(v1?.Description, "first");
    const v2 = await ok(["lambda", "update-function-code", "--function-name", FN, "--zip-file", `fileb://${join(t.dataDir, "v2.zip")}`, "--publish"]);
    assert.equal(v2?.Version, "2");
    const list = await ok(["lambda", "list-versions-by-function", "--function-name", FN]);
    assert.deepEqual(list?.Versions.map((v: { Version: string }) => v.Version), ["$LATEST", "1", "2"]);
  });

  test("create-alias with a routing config, invoke through it, and a bad alias name", async () => {
    const alias = await ok(["lambda", "create-alias", "--function-name", FN, "--name", "live", "--function-version", "1", "--routing-config", "AdditionalVersionWeights={2=0.5}"]);
    assert.equal(alias?.AliasArn, arnOf(FN, "live"));
    assert.deepEqual(alias?.RoutingConfig, { AdditionalVersionWeights: { "2": 0.5 } });
    const r = await ok(["lambda", "invoke", "--function-name", `${FN}:live`, "out.json"]);
    assert.equal(r?.StatusCode, 200);
    const body = JSON.parse(readFileSync(join(t.dataDir, "out.json"), "utf8")) as { version: string; code: string };
    assert.ok(["1", "2"].includes(r?.ExecutedVersion));
    assert.equal(body.version, r?.ExecutedVersion, "the CLI shows the version that ran");
    const err = await fails(["lambda", "create-alias", "--function-name", FN, "--name", "1", "--function-version", "1"], "ValidationException", "CreateAlias");
    assert.match(err, /Value '1' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern/);
    await fails(
      ["lambda", "update-alias", "--function-name", FN, "--name", "live", "--routing-config", "AdditionalVersionWeights={2=1.5}"],
      "ValidationException",
      "UpdateAlias",
    );
    await fails(["lambda", "delete-function", "--function-name", FN, "--qualifier", "1"], "ResourceConflictException", "DeleteFunction");
    const aliases = await ok(["lambda", "list-aliases", "--function-name", FN]);
    assert.deepEqual(aliases?.Aliases.map((a: { Name: string; FunctionVersion: string }) => [a.Name, a.FunctionVersion]), [["live", "1"]]);
  });

  test("put-function-concurrency, get-function-concurrency, the 100 floor, get-account-settings", async () => {
    const put = await ok(["lambda", "put-function-concurrency", "--function-name", FN, "--reserved-concurrent-executions", "10"]);
    assert.equal(put?.ReservedConcurrentExecutions, 10);
    assert.equal((await ok(["lambda", "get-function-concurrency", "--function-name", FN]))?.ReservedConcurrentExecutions, 10);
    const err = await fails(["lambda", "put-function-concurrency", "--function-name", FN, "--reserved-concurrent-executions", "950"], "InvalidParameterValueException", "PutFunctionConcurrency");
    assert.match(err, /below its minimum value of \[100\]/);
    const settings = await ok(["lambda", "get-account-settings"]);
    assert.equal(settings?.AccountLimit.UnreservedConcurrentExecutions, 990);
  });

  test("put-provisioned-concurrency-config on the alias, then READY", async () => {
    await fails(["lambda", "put-provisioned-concurrency-config", "--function-name", FN, "--qualifier", "$LATEST", "--provisioned-concurrent-executions", "1"], "InvalidParameterValueException", "PutProvisionedConcurrencyConfig");
    const put = await ok(["lambda", "put-provisioned-concurrency-config", "--function-name", FN, "--qualifier", "live", "--provisioned-concurrent-executions", "2"]);
    assert.equal(put?.RequestedProvisionedConcurrentExecutions, 2);
    assert.equal(put?.Status, "IN_PROGRESS");
    const c = t.client();
    let status: string | undefined;
    for (let i = 0; i < 150 && status !== "READY"; i++) {
      status = (await c.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: FN, Qualifier: "live" }))).Status;
      if (status !== "READY") await new Promise((r) => setTimeout(r, 200));
    }
    const got = await ok(["lambda", "get-provisioned-concurrency-config", "--function-name", FN, "--qualifier", "live"]);
    assert.equal(got?.Status, "READY");
    assert.equal(got?.AllocatedProvisionedConcurrentExecutions, 2);
  });

  test("tag-resource, list-tags, untag-resource, and a qualified ARN refused", async () => {
    assert.equal(await ok(["lambda", "tag-resource", "--resource", arnOf(FN), "--tags", "team=kiln,stage=prod"]), null);
    assert.deepEqual((await ok(["lambda", "list-tags", "--resource", arnOf(FN)]))?.Tags, { team: "kiln", stage: "prod" });
    assert.equal(await ok(["lambda", "untag-resource", "--resource", arnOf(FN), "--tag-keys", "stage"]), null);
    assert.deepEqual((await ok(["lambda", "list-tags", "--resource", arnOf(FN)]))?.Tags, { team: "kiln" });
    const err = await fails(["lambda", "tag-resource", "--resource", arnOf(FN, "live"), "--tags", "a=b"], "InvalidParameterValueException", "TagResource");
    assert.match(err, /Tags on function aliases and versions are not supported/);
  });
});
