/**
 * End to end, with @aws-sdk/client-lambda against a real standalone server and real sandboxes:
 * the function lifecycle (create -> Active -> get/list -> update code and configuration ->
 * delete), the SDK waiters, every function-name form, the code download link, account settings,
 * and a restart on the same data dir.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetAccountSettingsCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  ListFunctionsCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
  type LambdaClient,
} from "@aws-sdk/client-lambda";
import { zipFiles } from "../../src/artifacts/index.js";
import { ROLE, json, startKiln, type TestKiln } from "../support/kiln.js";
import { rejectsAws } from "../support/aws-errors.js";
import { createAccount, keysOf, signedFetch } from "../support/signed-fetch.js";

const ROOT_ACCOUNT = "000000000000";
const REGION = "us-east-1";
const arnOf = (name: string, account = ROOT_ACCOUNT) => `arn:aws:lambda:${REGION}:${account}:function:${name}`;

/** A handler reporting its code version, the event, and what the runtime sees of its configuration. */
const handlerSource = (version: string) => `
exports.handler = async (event, context) => ({
  version: ${JSON.stringify(version)},
  event,
  foo: process.env.FOO ?? null,
  memory: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
  name: process.env.AWS_LAMBDA_FUNCTION_NAME,
  remainingMs: context.getRemainingTimeInMillis(),
});
`;

interface HandlerResult {
  version: string;
  event: unknown;
  foo: string | null;
  memory: string;
  name: string;
  remainingMs: number;
}

async function invoke(c: LambdaClient, name: string, payload: unknown = {}): Promise<HandlerResult> {
  const r = await c.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(payload)) }));
  assert.equal(r.StatusCode, 200);
  assert.equal(r.ExecutedVersion, "$LATEST");
  assert.equal(r.FunctionError, undefined, `function error: ${Buffer.from(r.Payload ?? []).toString()}`);
  return json(r.Payload) as HandlerResult;
}

describe("functions API through the AWS SDK", { timeout: 120_000 }, () => {
  let t: TestKiln;
  let c: LambdaClient;
  let zipV1: Buffer;
  let zipV2: Buffer;

  before(async () => {
    t = await startKiln();
    c = t.client();
    zipV1 = await zipFiles({ "index.js": handlerSource("v1") });
    zipV2 = await zipFiles({ "index.js": handlerSource("v2"), "extra.txt": "more bytes" });
  });

  after(async () => {
    await t?.stop();
  });

  test("CreateFunction answers 201 Pending/Creating, and the V2 waiter reaches Active/Successful", async () => {
    const created = await c.send(
      new CreateFunctionCommand({ FunctionName: "life", Runtime: "nodejs20.x", Handler: "index.handler", Role: ROLE, Code: { ZipFile: zipV1 }, Description: "lifecycle", Tags: { team: "kiln" } }),
    );
    assert.equal(created.$metadata.httpStatusCode, 201);
    assert.equal(created.State, "Pending");
    assert.equal(created.StateReasonCode, "Creating");
    assert.equal(created.StateReason, "The function is being created.");
    assert.equal(created.FunctionArn, arnOf("life"));
    assert.equal(created.CodeSize, zipV1.length);
    assert.equal(created.Timeout, 3);
    assert.equal(created.MemorySize, 128);
    assert.equal(created.Version, "$LATEST");
    assert.deepEqual(created.LoggingConfig, { LogFormat: "Text", LogGroup: "/aws/lambda/life" });
    assert.match(created.LastModified ?? "", /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/);

    const waited = await waitUntilFunctionActiveV2({ client: c, maxWaitTime: 30, minDelay: 1 }, { FunctionName: "life" });
    assert.equal(waited.state, "SUCCESS");
    const cfg = await c.send(new GetFunctionConfigurationCommand({ FunctionName: "life" }));
    assert.equal(cfg.State, "Active");
    assert.equal(cfg.LastUpdateStatus, "Successful");
    assert.equal(cfg.StateReasonCode, undefined);
    assert.equal(cfg.CodeSha256, created.CodeSha256);
  });

  test("a duplicate create is 409 'Function already exist: <name>'", async () => {
    await rejectsAws(c.send(new CreateFunctionCommand({ FunctionName: "life", Runtime: "nodejs20.x", Handler: "index.handler", Role: ROLE, Code: { ZipFile: zipV1 } })), {
      name: "ResourceConflictException",
      status: 409,
      message: "Function already exist: life",
    });
  });

  test("two concurrent creates of one name: exactly one wins, the other is 409", async () => {
    const create = () => c.send(new CreateFunctionCommand({ FunctionName: "race", Runtime: "nodejs20.x", Handler: "index.handler", Role: ROLE, Code: { ZipFile: zipV1 } }));
    const results = await Promise.allSettled([create(), create(), create()]);
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 1, JSON.stringify(results.map((r) => r.status)));
    for (const r of results) {
      if (r.status === "rejected") assert.equal((r.reason as Error).name, "ResourceConflictException");
    }
    await waitUntilFunctionActiveV2({ client: c, maxWaitTime: 30, minDelay: 1 }, { FunctionName: "race" });
    assert.equal((await invoke(c, "race")).version, "v1");
    await c.send(new DeleteFunctionCommand({ FunctionName: "race" }));
  });

  test("GetFunction returns the configuration and a download link to exactly the uploaded zip", async () => {
    const got = await c.send(new GetFunctionCommand({ FunctionName: "life" }));
    assert.equal(got.Configuration?.FunctionName, "life");
    assert.equal(got.Configuration?.Description, "lifecycle");
    assert.equal(got.Configuration?.State, "Active");
    assert.deepEqual(got.Tags, { team: "kiln" });
    assert.equal(got.Code?.RepositoryType, "S3");
    const location = got.Code?.Location ?? "";
    assert.match(location, /^http:\/\//);

    const res = await fetch(location);
    assert.equal(res.status, 200);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(zipV1), "the downloaded package equals the uploaded zip");

    // Tampered: one signature character changed.
    const url = new URL(location);
    const sig = url.searchParams.get("Signature") ?? "";
    url.searchParams.set("Signature", (sig[0] === "a" ? "b" : "a") + sig.slice(1));
    const tampered = await fetch(url);
    assert.equal(tampered.status, 403);
    assert.equal(tampered.headers.get("x-amzn-errortype"), "AccessDeniedException");
    assert.match(await tampered.text(), /invalid or has expired/);

    // Pointing a genuine signature at another package.
    const other = new URL(location);
    other.pathname = other.pathname.replace(/[0-9a-f]{64}$/, "0".repeat(64));
    assert.equal((await fetch(other)).status, 403);

    // Links signed with the server's real secret: one still current is served, an expired one is not.
    const [, , , , accountId, shaHex] = url.pathname.split("/");
    const secret = readFileSync(join(t.dataDir, "server-secret"));
    const signedUntil = (expires: number) => {
      const u = new URL(location);
      u.searchParams.set("Expires", String(expires));
      u.searchParams.set("Signature", createHmac("sha256", secret).update(`${accountId}\n${shaHex}\n${expires}`).digest("hex"));
      return u;
    };
    const current = await fetch(signedUntil(Math.floor(Date.now() / 1000) + 60));
    assert.equal(current.status, 200, "a genuine, current link is served");
    await current.arrayBuffer();
    const expired = await fetch(signedUntil(Math.floor(Date.now() / 1000) - 60));
    assert.equal(expired.status, 403, "an expired link is refused");
    assert.equal(expired.headers.get("x-amzn-errortype"), "AccessDeniedException");
    await expired.text();
  });

  test("every function-name form reaches the same function; mismatches and foreign regions are refused", async () => {
    const forms = ["life", "life:$LATEST", `${ROOT_ACCOUNT}:function:life`, `${ROOT_ACCOUNT}:function:life:$LATEST`, arnOf("life"), `${arnOf("life")}:$LATEST`];
    for (const FunctionName of forms) {
      const cfg = await c.send(new GetFunctionConfigurationCommand({ FunctionName }));
      assert.equal(cfg.FunctionArn, arnOf("life"), FunctionName);
      const r = await invoke(c, FunctionName, { form: FunctionName });
      assert.deepEqual(r.event, { form: FunctionName });
    }
    // On the wire: ':' percent-encoded (as the SDK sends it) and literal.
    for (const path of [`/2015-03-31/functions/life%3A%24LATEST/configuration`, `/2015-03-31/functions/life:$LATEST/configuration`, `/2015-03-31/functions/${encodeURIComponent(arnOf("life"))}`]) {
      const r = await signedFetch(t.url, { method: "GET", path });
      assert.equal(r.status, 200, `${path}: ${r.text}`);
      const body = r.json() as { FunctionArn?: string; Configuration?: { FunctionArn?: string } };
      assert.equal(body.FunctionArn ?? body.Configuration?.FunctionArn, arnOf("life"));
    }

    await rejectsAws(c.send(new GetFunctionCommand({ FunctionName: "life:$LATEST", Qualifier: "1" })), {
      name: "InvalidParameterValueException",
      status: 400,
      message: "The derived qualifier from the function name does not match the specified qualifier.",
    });
    await rejectsAws(c.send(new GetFunctionCommand({ FunctionName: "life", Qualifier: "7" })), {
      name: "ResourceNotFoundException",
      status: 404,
      message: `Function not found: ${arnOf("life")}:7`,
    });
    const foreign = "arn:aws:lambda:eu-west-1:000000000000:function:life";
    for (const send of [
      () => c.send(new GetFunctionCommand({ FunctionName: foreign })),
      () => c.send(new InvokeCommand({ FunctionName: foreign, Payload: Buffer.from("{}") })),
      () => c.send(new DeleteFunctionCommand({ FunctionName: foreign })),
    ]) {
      await rejectsAws(send(), { name: "ResourceNotFoundException", status: 404, message: "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')" });
    }
    // The foreign-region delete did not touch the local function.
    assert.equal((await c.send(new GetFunctionConfigurationCommand({ FunctionName: "life" }))).State, "Active");
  });

  test("UpdateFunctionCode: new CodeSha256, InProgress then Successful, and the next invoke runs the new code", async () => {
    assert.equal((await invoke(c, "life")).version, "v1");
    const before = await c.send(new GetFunctionConfigurationCommand({ FunctionName: "life" }));
    const updated = await c.send(new UpdateFunctionCodeCommand({ FunctionName: "life", ZipFile: zipV2 }));
    assert.equal(updated.$metadata.httpStatusCode, 200);
    assert.equal(updated.LastUpdateStatus, "InProgress");
    assert.equal(updated.State, "Active");
    assert.notEqual(updated.CodeSha256, before.CodeSha256);
    assert.equal(updated.CodeSha256, (await c.send(new GetFunctionConfigurationCommand({ FunctionName: "life" }))).CodeSha256);
    assert.equal(updated.CodeSize, zipV2.length);
    assert.notEqual(updated.RevisionId, before.RevisionId);

    const waited = await waitUntilFunctionUpdatedV2({ client: c, maxWaitTime: 30, minDelay: 1 }, { FunctionName: "life" });
    assert.equal(waited.state, "SUCCESS");
    assert.equal((await c.send(new GetFunctionConfigurationCommand({ FunctionName: "life" }))).LastUpdateStatus, "Successful");
    assert.equal((await invoke(c, "life")).version, "v2");
    const link = (await c.send(new GetFunctionCommand({ FunctionName: "life" }))).Code?.Location ?? "";
    assert.ok(Buffer.from(await (await fetch(link)).arrayBuffer()).equals(zipV2), "the download link serves the new package");
  });

  test("UpdateFunctionConfiguration: env, memory and timeout show in the config and in the runtime", async () => {
    const first = await invoke(c, "life");
    assert.equal(first.foo, null);
    assert.equal(first.memory, "128");
    assert.ok(first.remainingMs <= 3000, `remaining ${first.remainingMs} ms with Timeout 3`);

    const updated = await c.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: "life", Environment: { Variables: { FOO: "bar-1" } }, MemorySize: 256, Timeout: 30 }),
    );
    assert.equal(updated.LastUpdateStatus, "InProgress");
    await waitUntilFunctionUpdatedV2({ client: c, maxWaitTime: 30, minDelay: 1 }, { FunctionName: "life" });
    const cfg = await c.send(new GetFunctionConfigurationCommand({ FunctionName: "life" }));
    assert.deepEqual(cfg.Environment?.Variables, { FOO: "bar-1" });
    assert.equal(cfg.MemorySize, 256);
    assert.equal(cfg.Timeout, 30);
    assert.equal(cfg.LastUpdateStatus, "Successful");

    const next = await invoke(c, "life");
    assert.equal(next.version, "v2", "a configuration update keeps the code");
    assert.equal(next.foo, "bar-1");
    assert.equal(next.memory, "256");
    assert.equal(next.name, "life");
    assert.ok(next.remainingMs > 3000 && next.remainingMs <= 30_000, `remaining ${next.remainingMs} ms with Timeout 30`);
  });

  test("a stale RevisionId is 412 PreconditionFailedException; the current one is accepted", async () => {
    const cur = await c.send(new GetFunctionConfigurationCommand({ FunctionName: "life" }));
    const message = "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id";
    await rejectsAws(c.send(new UpdateFunctionConfigurationCommand({ FunctionName: "life", Description: "stale", RevisionId: "00000000-0000-0000-0000-000000000000" })), {
      name: "PreconditionFailedException",
      status: 412,
      message,
    });
    await rejectsAws(c.send(new UpdateFunctionCodeCommand({ FunctionName: "life", ZipFile: zipV1, RevisionId: "00000000-0000-0000-0000-000000000000" })), {
      name: "PreconditionFailedException",
      status: 412,
      message,
    });
    const unchanged = await c.send(new GetFunctionConfigurationCommand({ FunctionName: "life" }));
    assert.equal(unchanged.Description, "lifecycle");
    assert.equal(unchanged.CodeSha256, cur.CodeSha256);
    assert.equal(unchanged.RevisionId, cur.RevisionId);

    const ok = await c.send(new UpdateFunctionConfigurationCommand({ FunctionName: "life", Description: "fresh", RevisionId: cur.RevisionId }));
    assert.equal(ok.Description, "fresh");
    await waitUntilFunctionUpdatedV2({ client: c, maxWaitTime: 30, minDelay: 1 }, { FunctionName: "life" });
  });

  test("ListFunctions pages with MaxItems/Marker; GetAccountSettings counts the account's functions", async () => {
    const acct = await createAccount(t.url, "lister");
    const lc = t.client(keysOf(acct));
    const empty = await lc.send(new GetAccountSettingsCommand({}));
    assert.equal(empty.AccountUsage?.FunctionCount, 0);
    assert.equal(empty.AccountUsage?.TotalCodeSize, 0);

    const names = ["p-a", "p-b", "p-c", "p-d", "p-e"];
    let expectedBytes = 0;
    for (const [i, FunctionName] of names.entries()) {
      const zip = await zipFiles({ "index.js": handlerSource(`list-${i}`) });
      expectedBytes += zip.length;
      await lc.send(new CreateFunctionCommand({ FunctionName, Runtime: "nodejs20.x", Handler: "index.handler", Role: ROLE, Code: { ZipFile: zip } }));
    }
    const seen: string[] = [];
    let Marker: string | undefined;
    let pages = 0;
    do {
      const page = await lc.send(new ListFunctionsCommand({ MaxItems: 2, ...(Marker ? { Marker } : {}) }));
      pages++;
      assert.ok((page.Functions ?? []).length <= 2);
      for (const f of page.Functions ?? []) {
        seen.push(f.FunctionName ?? "");
        assert.equal(f.FunctionArn, arnOf(f.FunctionName ?? "", acct.AccountId));
        assert.equal(f.State, undefined, "ListFunctions omits State");
      }
      Marker = page.NextMarker;
    } while (Marker && pages < 10);
    assert.equal(pages, 3);
    assert.deepEqual([...seen].sort(), names, "each function exactly once");

    const all = await lc.send(new ListFunctionsCommand({}));
    assert.deepEqual((all.Functions ?? []).map((f) => f.FunctionName).sort(), names);
    assert.equal(all.NextMarker, undefined);

    const settings = await lc.send(new GetAccountSettingsCommand({}));
    assert.equal(settings.AccountUsage?.FunctionCount, 5);
    assert.equal(settings.AccountUsage?.TotalCodeSize, expectedBytes);
    assert.equal(settings.AccountLimit?.CodeSizeZipped, 52_428_800);
    assert.equal(settings.AccountLimit?.CodeSizeUnzipped, 262_144_000);
    assert.equal(settings.AccountLimit?.ConcurrentExecutions, 1000);

    await lc.send(new DeleteFunctionCommand({ FunctionName: "p-c" }));
    const fewer = await lc.send(new GetAccountSettingsCommand({}));
    assert.equal(fewer.AccountUsage?.FunctionCount, 4);
  });

  test("DeleteFunction, then 404 'Function not found: <arn>' for get, invoke, update and delete; the name can be reused", async () => {
    await t.deploy("doomed", "nodejs20.x", "index.handler", { "index.js": handlerSource("doomed") });
    assert.equal((await invoke(c, "doomed")).version, "doomed");
    await rejectsAws(c.send(new DeleteFunctionCommand({ FunctionName: "doomed", Qualifier: "$LATEST" })), {
      name: "InvalidParameterValueException",
      status: 400,
      message: "$LATEST version cannot be deleted without deleting the function.",
    });
    const del = await c.send(new DeleteFunctionCommand({ FunctionName: arnOf("doomed") }));
    assert.ok([200, 204].includes(del.$metadata.httpStatusCode ?? 0));
    const notFound = { name: "ResourceNotFoundException", status: 404, message: `Function not found: ${arnOf("doomed")}` };
    await rejectsAws(c.send(new GetFunctionCommand({ FunctionName: "doomed" })), notFound);
    await rejectsAws(c.send(new GetFunctionConfigurationCommand({ FunctionName: "doomed" })), notFound);
    await rejectsAws(c.send(new InvokeCommand({ FunctionName: "doomed", Payload: Buffer.from("{}") })), notFound);
    await rejectsAws(c.send(new UpdateFunctionConfigurationCommand({ FunctionName: "doomed", Timeout: 5 })), notFound);
    await rejectsAws(c.send(new DeleteFunctionCommand({ FunctionName: "doomed" })), notFound);
    const names = (await c.send(new ListFunctionsCommand({}))).Functions?.map((f) => f.FunctionName);
    assert.ok(names?.includes("life") && !names.includes("doomed"));

    // The name is free again; the new function runs its own code, not a warm environment of the old one.
    await t.deploy("doomed", "nodejs20.x", "index.handler", { "index.js": handlerSource("reborn") });
    assert.equal((await invoke(c, "doomed")).version, "reborn");
    const dry = await c.send(new InvokeCommand({ FunctionName: "doomed", InvocationType: "DryRun" }));
    assert.equal(dry.StatusCode, 204);
    assert.equal(Buffer.from(dry.Payload ?? []).length, 0);
  });

  test("a restart on the same data dir keeps functions, their configuration and code; they still run", async () => {
    const beforeCfg = await c.send(new GetFunctionConfigurationCommand({ FunctionName: "life" }));
    const dataDir = t.dataDir;
    await t.stop({ keepData: true });
    t = await startKiln({}, dataDir);
    c = t.client();
    const cfg = await c.send(new GetFunctionConfigurationCommand({ FunctionName: "life" }));
    assert.equal(cfg.State, "Active");
    assert.equal(cfg.CodeSha256, beforeCfg.CodeSha256);
    assert.equal(cfg.RevisionId, beforeCfg.RevisionId);
    assert.deepEqual(cfg.Environment?.Variables, { FOO: "bar-1" });
    const r = await invoke(c, "life", { after: "restart" });
    assert.equal(r.version, "v2");
    assert.equal(r.foo, "bar-1");
    assert.deepEqual(r.event, { after: "restart" });
    assert.equal((await invoke(c, "doomed")).version, "reborn");
  });
});
