/**
 * Versions end to end, through @aws-sdk/client-lambda against a real server with real sandboxes:
 * PublishVersion (snapshots, no new version when nothing changed, CodeSha256/RevisionId
 * preconditions, Publish on create and update), ListVersionsByFunction, qualifiers on every API,
 * $LATEST staying mutable, per-version warm environments, DeleteFunction of a version.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteAliasCommand,
  DeleteFunctionCommand,
  GetAccountSettingsCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  ListFunctionsCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionUpdatedV2,
  type LambdaClient,
} from "@aws-sdk/client-lambda";
import { ROLE, startKiln, type TestKiln } from "../support/kiln.js";
import { rejectsAws } from "../support/aws-errors.js";
import { signedFetch } from "../support/signed-fetch.js";
import { arnOf, invoke, reporterSource, reporterZip } from "./fixtures.js";

const REVISION_MISMATCH = "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id";

describe("versions through the AWS SDK", { timeout: 120_000 }, () => {
  let t: TestKiln;
  let c: LambdaClient;
  let zip1: Buffer;
  let zip2: Buffer;

  const updated = (FunctionName: string) => waitUntilFunctionUpdatedV2({ client: c, maxWaitTime: 30, minDelay: 1 }, { FunctionName });

  before(async () => {
    t = await startKiln();
    c = t.client();
    zip1 = await reporterZip("v1");
    zip2 = await reporterZip("v2");
    await t.deploy("ver", "nodejs20.x", "index.handler", { "index.js": reporterSource("v1") }, { Environment: { Variables: { FOO: "a" } } });
  });

  after(async () => {
    await t?.stop();
  });

  test("PublishVersion snapshots $LATEST (201, Version 1, qualified ARN); nothing changed gives the same version; $LATEST stays mutable", async () => {
    const latest = await c.send(new GetFunctionConfigurationCommand({ FunctionName: "ver" }));
    const v1 = await c.send(new PublishVersionCommand({ FunctionName: "ver", Description: "first" }));
    assert.equal(v1.$metadata.httpStatusCode, 201);
    assert.equal(v1.Version, "1");
    assert.equal(v1.FunctionArn, arnOf("ver", "1"));
    assert.equal(v1.Description, "first");
    assert.equal(v1.State, "Active");
    assert.equal(v1.CodeSha256, latest.CodeSha256);
    assert.deepEqual(v1.Environment?.Variables, { FOO: "a" });
    assert.notEqual(v1.RevisionId, latest.RevisionId);

    const again = await c.send(new PublishVersionCommand({ FunctionName: "ver" }));
    assert.equal(again.Version, "1", "nothing changed since version 1: no new version");
    assert.equal(again.RevisionId, v1.RevisionId);

    await c.send(new UpdateFunctionCodeCommand({ FunctionName: "ver", ZipFile: zip2 }));
    await updated("ver");
    await c.send(new UpdateFunctionConfigurationCommand({ FunctionName: "ver", Environment: { Variables: { FOO: "b" } }, MemorySize: 256 }));
    await updated("ver");

    const old = await invoke(c, { FunctionName: "ver:1" });
    assert.deepEqual([old.executedVersion, old.body.code, old.body.foo, old.body.memory], ["1", "v1", "a", "128"], "version 1 keeps its code and configuration");
    const cur = await invoke(c, { FunctionName: "ver" });
    assert.deepEqual([cur.executedVersion, cur.body.code, cur.body.foo, cur.body.memory], ["$LATEST", "v2", "b", "256"], "$LATEST took both updates");

    const v2 = await c.send(new PublishVersionCommand({ FunctionName: "ver" }));
    assert.equal(v2.Version, "2");
    assert.equal(v2.Description, "", "the description is $LATEST's when none is given");
    assert.equal((await invoke(c, { FunctionName: "ver", Qualifier: "2" })).body.code, "v2");
  });

  test("CodeSha256 and RevisionId preconditions: AWS's errors, and nothing published", async () => {
    const latest = await c.send(new GetFunctionConfigurationCommand({ FunctionName: "ver" }));
    await c.send(new UpdateFunctionConfigurationCommand({ FunctionName: "ver", Description: "changed" }));
    await updated("ver");
    await rejectsAws(c.send(new PublishVersionCommand({ FunctionName: "ver", RevisionId: latest.RevisionId })), {
      name: "PreconditionFailedException",
      status: 412,
      message: REVISION_MISMATCH,
    });
    const wrongSha = Buffer.alloc(32, 1).toString("base64");
    await rejectsAws(c.send(new PublishVersionCommand({ FunctionName: "ver", CodeSha256: wrongSha })), {
      name: "InvalidParameterValueException",
      status: 400,
      message: `CodeSHA256 (${wrongSha}) is different from current CodeSHA256 in $LATEST (${latest.CodeSha256}). Please try again with the CodeSHA256 in $LATEST.`,
    });
    const versions = (await c.send(new ListVersionsByFunctionCommand({ FunctionName: "ver" }))).Versions?.map((v) => v.Version);
    assert.deepEqual(versions, ["$LATEST", "1", "2"], "no version was published by a refused call");
    const now = await c.send(new GetFunctionConfigurationCommand({ FunctionName: "ver" }));
    const v3 = await c.send(new PublishVersionCommand({ FunctionName: "ver", RevisionId: now.RevisionId, CodeSha256: now.CodeSha256 }));
    assert.equal(v3.Version, "3");
    assert.equal(v3.Description, "changed");
    await rejectsAws(c.send(new PublishVersionCommand({ FunctionName: "nope" })), { name: "ResourceNotFoundException", status: 404, message: `Function not found: ${arnOf("nope")}` });
  });

  test("Qualifier and name:qualifier reach the version on GetFunction, GetFunctionConfiguration and Invoke", async () => {
    for (const input of [
      { FunctionName: "ver", Qualifier: "1" },
      { FunctionName: "ver:1" },
      { FunctionName: arnOf("ver", "1") },
      { FunctionName: `${arnOf("ver")}`, Qualifier: "1" },
      { FunctionName: "000000000000:function:ver:1" },
    ]) {
      const cfg = await c.send(new GetFunctionConfigurationCommand(input));
      assert.equal(cfg.Version, "1", JSON.stringify(input));
      assert.equal(cfg.FunctionArn, arnOf("ver", "1"));
      const got = await c.send(new GetFunctionCommand(input));
      assert.equal(got.Configuration?.Version, "1");
      assert.equal((await invoke(c, input)).body.code, "v1", JSON.stringify(input));
    }
    const got = await c.send(new GetFunctionCommand({ FunctionName: "ver:1" }));
    const zip = Buffer.from(await (await fetch(got.Code?.Location ?? "")).arrayBuffer());
    assert.ok(zip.equals(zip1), "version 1's download link serves version 1's package");
    assert.equal((await c.send(new GetFunctionConfigurationCommand({ FunctionName: "ver", Qualifier: "$LATEST" }))).Version, "$LATEST");

    await rejectsAws(c.send(new GetFunctionCommand({ FunctionName: "ver:1", Qualifier: "2" })), {
      name: "InvalidParameterValueException",
      status: 400,
      message: "The derived qualifier from the function name does not match the specified qualifier.",
    });
    for (const send of [
      () => c.send(new GetFunctionCommand({ FunctionName: "ver:9" })),
      () => c.send(new GetFunctionConfigurationCommand({ FunctionName: "ver", Qualifier: "9" })),
      () => c.send(new InvokeCommand({ FunctionName: "ver:9" })),
    ]) {
      await rejectsAws(send(), { name: "ResourceNotFoundException", status: 404, message: `Function not found: ${arnOf("ver", "9")}` });
    }
    // The raw wire: a literal ':' in the path, and ?Qualifier=.
    const raw = await signedFetch(t.url, { method: "GET", path: "/2015-03-31/functions/ver:2/configuration" });
    assert.equal(raw.status, 200);
    assert.equal((raw.json() as { Version: string }).Version, "2");
  });

  test("ListVersionsByFunction: $LATEST first, qualified ARNs, MaxItems/Marker pages", async () => {
    const all = await c.send(new ListVersionsByFunctionCommand({ FunctionName: "ver" }));
    assert.deepEqual(all.Versions?.map((v) => v.Version), ["$LATEST", "1", "2", "3"]);
    assert.deepEqual(all.Versions?.map((v) => v.FunctionArn), [arnOf("ver", "$LATEST"), arnOf("ver", "1"), arnOf("ver", "2"), arnOf("ver", "3")]);
    assert.equal(all.NextMarker, undefined);
    const seen: string[] = [];
    let Marker: string | undefined;
    do {
      const page = await c.send(new ListVersionsByFunctionCommand({ FunctionName: arnOf("ver"), MaxItems: 3, ...(Marker ? { Marker } : {}) }));
      assert.ok((page.Versions ?? []).length <= 3);
      seen.push(...(page.Versions ?? []).map((v) => v.Version ?? ""));
      Marker = page.NextMarker;
    } while (Marker);
    assert.deepEqual(seen, ["$LATEST", "1", "2", "3"]);
    await rejectsAws(c.send(new ListVersionsByFunctionCommand({ FunctionName: "nope" })), { name: "ResourceNotFoundException", status: 404, message: `Function not found: ${arnOf("nope")}` });
  });

  test("each version keeps its own warm environments; updating $LATEST leaves them warm", async () => {
    const a = await invoke(c, { FunctionName: "ver:1" });
    const b = await invoke(c, { FunctionName: "ver:1" });
    const other = await invoke(c, { FunctionName: "ver:2" });
    assert.equal(b.body.instance, a.body.instance, "version 1 reuses its environment");
    assert.doesNotMatch(b.log, /Init Duration/);
    assert.notEqual(other.body.instance, a.body.instance, "version 2 never runs in version 1's environment");
    assert.match(a.log, /START RequestId: \S+ Version: 1\n/, "the log names the version");

    await c.send(new UpdateFunctionConfigurationCommand({ FunctionName: "ver", Environment: { Variables: { FOO: "c" } } }));
    await updated("ver");
    const after = await invoke(c, { FunctionName: "ver:1" });
    assert.equal(after.body.instance, a.body.instance, "version 1's environment survived the $LATEST update");
    assert.equal(after.body.count, b.body.count + 1);
    assert.equal((await invoke(c, { FunctionName: "ver" })).body.foo, "c");
  });

  test("an invoke in flight on $LATEST finishes on the old configuration; a version is never disturbed", async () => {
    const slow = invoke(c, { FunctionName: "ver", payload: { sleepMs: 1500 } });
    await new Promise((r) => setTimeout(r, 300));
    await c.send(new UpdateFunctionConfigurationCommand({ FunctionName: "ver", Environment: { Variables: { FOO: "d" } } }));
    await updated("ver");
    const fresh = await invoke(c, { FunctionName: "ver" });
    assert.equal(fresh.body.foo, "d", "new invokes use the new configuration");
    assert.equal((await slow).body.foo, "c", "the invoke in flight finished on the configuration it started with");
  });

  test("DeleteFunction of a version: refused for $LATEST and while an alias points to it; numbers are never reused", async () => {
    await c.send(new CreateAliasCommand({ FunctionName: "ver", Name: "live", FunctionVersion: "2" }));
    await rejectsAws(c.send(new DeleteFunctionCommand({ FunctionName: "ver", Qualifier: "2" })), {
      name: "ResourceConflictException",
      status: 409,
      message: "Unable to delete version because the following aliases reference it: [live]",
    });
    await rejectsAws(c.send(new DeleteFunctionCommand({ FunctionName: "ver:$LATEST" })), {
      name: "InvalidParameterValueException",
      status: 400,
      message: "$LATEST version cannot be deleted without deleting the function.",
    });
    assert.equal((await invoke(c, { FunctionName: "ver:2" })).body.code, "v2", "the refused delete changed nothing");

    const del = await c.send(new DeleteFunctionCommand({ FunctionName: "ver:3" }));
    assert.ok([200, 204].includes(del.$metadata.httpStatusCode ?? 0));
    await rejectsAws(c.send(new InvokeCommand({ FunctionName: "ver:3" })), { name: "ResourceNotFoundException", status: 404, message: `Function not found: ${arnOf("ver", "3")}` });
    await rejectsAws(c.send(new DeleteFunctionCommand({ FunctionName: "ver", Qualifier: "3" })), {
      name: "ResourceNotFoundException",
      status: 404,
      message: `Function not found: ${arnOf("ver", "3")}`,
    });
    await c.send(new DeleteAliasCommand({ FunctionName: "ver", Name: "live" }));
    await c.send(new DeleteFunctionCommand({ FunctionName: "ver", Qualifier: "2" }));
    assert.deepEqual((await c.send(new ListVersionsByFunctionCommand({ FunctionName: "ver" }))).Versions?.map((v) => v.Version), ["$LATEST", "1"]);
    assert.equal((await invoke(c, { FunctionName: "ver" })).body.code, "v2", "$LATEST is untouched");

    await c.send(new UpdateFunctionConfigurationCommand({ FunctionName: "ver", Description: "after deletes" }));
    await updated("ver");
    assert.equal((await c.send(new PublishVersionCommand({ FunctionName: "ver" }))).Version, "4", "deleted numbers are not reused");
  });

  test("Publish: true on CreateFunction and UpdateFunctionCode returns the new version", async () => {
    const created = await c.send(
      new CreateFunctionCommand({ FunctionName: "pub", Runtime: "nodejs20.x", Handler: "index.handler", Role: ROLE, Code: { ZipFile: zip1 }, Publish: true }),
    );
    assert.equal(created.$metadata.httpStatusCode, 201);
    assert.equal(created.Version, "1");
    assert.equal(created.FunctionArn, arnOf("pub", "1"));
    const code = await c.send(new UpdateFunctionCodeCommand({ FunctionName: "pub", ZipFile: zip2, Publish: true }));
    assert.equal(code.Version, "2");
    assert.equal(code.FunctionArn, arnOf("pub", "2"));
    assert.equal((await invoke(c, { FunctionName: "pub:1" })).body.code, "v1");
    assert.equal((await invoke(c, { FunctionName: "pub:2" })).body.code, "v2");
  });

  test("ListFunctions with FunctionVersion=ALL lists every version with qualified ARNs, in pages", async () => {
    const plain = await c.send(new ListFunctionsCommand({}));
    assert.deepEqual(plain.Functions?.map((f) => f.FunctionArn), [arnOf("pub"), arnOf("ver")], "without it, one entry per function");
    const want = [arnOf("pub", "$LATEST"), arnOf("pub", "1"), arnOf("pub", "2"), arnOf("ver", "$LATEST"), arnOf("ver", "1"), arnOf("ver", "4")];
    assert.deepEqual((await c.send(new ListFunctionsCommand({ FunctionVersion: "ALL" }))).Functions?.map((f) => f.FunctionArn), want);
    const seen: string[] = [];
    let Marker: string | undefined;
    do {
      const page = await c.send(new ListFunctionsCommand({ FunctionVersion: "ALL", MaxItems: 4, ...(Marker ? { Marker } : {}) }));
      seen.push(...(page.Functions ?? []).map((f) => f.FunctionArn ?? ""));
      Marker = page.NextMarker;
    } while (Marker);
    assert.deepEqual(seen, want);
    const bad = await signedFetch(t.url, { method: "GET", path: "/2015-03-31/functions/?FunctionVersion=SOME" });
    assert.equal(bad.status, 400);
    assert.equal(bad.errorType, "ValidationException");
    assert.equal(bad.message, "1 validation error detected: Value 'SOME' at 'functionVersion' failed to satisfy constraint: Member must satisfy enum value set: [ALL]");
  });

  test("GetAccountSettings counts every version's code", async () => {
    const acct = await c.send(new GetAccountSettingsCommand({}));
    const sizes = async (name: string) => ((await c.send(new ListVersionsByFunctionCommand({ FunctionName: name }))).Versions ?? []).reduce((n, v) => n + (v.CodeSize ?? 0), 0);
    assert.equal(acct.AccountUsage?.TotalCodeSize, (await sizes("ver")) + (await sizes("pub")));
    assert.equal(acct.AccountUsage?.FunctionCount, 2, "versions are not functions");
  });
});
