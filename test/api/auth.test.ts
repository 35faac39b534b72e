/**
 * End to end: SigV4 authentication (missing, wrong, unknown, skewed, tampered), the unauthenticated
 * /healthz, Kiln's admin API for accounts (root only), and tenant isolation between accounts:
 * neither a name nor another account's ARN reaches a function that is not the caller's.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  ListFunctionsCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  type LambdaClient,
} from "@aws-sdk/client-lambda";
import { zipFiles } from "../../src/artifacts/index.js";
import { ROLE, ROOT_KEY, json, startKiln, type TestKiln } from "../support/kiln.js";
import { rejectsAws } from "../support/aws-errors.js";
import { createAccount, keysOf, plainFetch, signedFetch, type Keys } from "../support/signed-fetch.js";

const arn = (account: string, name: string) => `arn:aws:lambda:us-east-1:${account}:function:${name}`;
/** A function that says whose it is, on stdout and in its result. */
const owned = (owner: string) => `exports.handler = async () => { console.log("log line of ${owner}"); return { owner: ${JSON.stringify(owner)} }; };`;

describe("authentication, accounts and tenant isolation", { timeout: 120_000 }, () => {
  let t: TestKiln;
  let root: LambdaClient;

  before(async () => {
    t = await startKiln();
    root = t.client();
  });

  after(async () => {
    await t?.stop();
  });

  describe("SigV4", () => {
    test("an unsigned request is 403 MissingAuthenticationTokenException", async () => {
      const r = await plainFetch(t.url, "/2015-03-31/functions");
      assert.equal(r.status, 403);
      assert.equal(r.errorType, "MissingAuthenticationTokenException");
      assert.equal(r.message, "Missing Authentication Token");
      const post = await plainFetch(t.url, "/2015-03-31/functions", { method: "POST", body: "{}" });
      assert.equal(post.status, 403);
      assert.equal(post.errorType, "MissingAuthenticationTokenException");
    });

    test("a wrong secret is 403 InvalidSignatureException; an unknown key is 403 UnrecognizedClientException", async () => {
      const wrong = t.client({ accessKeyId: ROOT_KEY.accessKeyId, secretAccessKey: "not-the-secret-0000000000000000000000000" });
      await rejectsAws(wrong.send(new ListFunctionsCommand({})), { name: "InvalidSignatureException", status: 403, message: /^The request signature we calculated does not match/ });
      const unknown = t.client({ accessKeyId: "AKIAUNKNOWNKEY000000", secretAccessKey: ROOT_KEY.secretAccessKey });
      await rejectsAws(unknown.send(new ListFunctionsCommand({})), { name: "UnrecognizedClientException", status: 403, message: "The security token included in the request is invalid." });
      // The right keys work (so the failures above are about the keys, not the client).
      assert.ok(Array.isArray((await root.send(new ListFunctionsCommand({}))).Functions));
    });

    test("X-Amz-Date 10 minutes off is 403 InvalidSignatureException 'Signature expired' / 'not yet current'", async () => {
      const past = await signedFetch(t.url, { method: "GET", path: "/2015-03-31/functions", signingDate: new Date(Date.now() - 10 * 60_000) });
      assert.equal(past.status, 403);
      assert.equal(past.errorType, "InvalidSignatureException");
      assert.match(past.message ?? "", /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/);
      const future = await signedFetch(t.url, { method: "GET", path: "/2015-03-31/functions", signingDate: new Date(Date.now() + 10 * 60_000) });
      assert.equal(future.status, 403);
      assert.equal(future.errorType, "InvalidSignatureException");
      assert.match(future.message ?? "", /^Signature not yet current/);
      // Within the 5-minute window, the same request is fine.
      const close = await signedFetch(t.url, { method: "GET", path: "/2015-03-31/functions", signingDate: new Date(Date.now() - 2 * 60_000) });
      assert.equal(close.status, 200, close.text);
    });

    test("a body other than the signed one, another region or another service is 403 InvalidSignatureException", async () => {
      const signedBody = JSON.stringify({ FunctionName: "x", Role: ROLE });
      const tampered = await signedFetch(t.url, { method: "POST", path: "/2015-03-31/functions", body: signedBody, sendBody: signedBody.replace('"x"', '"y"') });
      assert.equal(tampered.status, 403);
      assert.equal(tampered.errorType, "InvalidSignatureException");
      const wrongRegion = await signedFetch(t.url, { method: "GET", path: "/2015-03-31/functions", region: "eu-west-1" });
      assert.equal(wrongRegion.status, 403, "a signature scoped to another region is refused, as AWS does");
      assert.equal(wrongRegion.errorType, "InvalidSignatureException");
      assert.equal(wrongRegion.message, "Credential should be scoped to a valid region, not 'eu-west-1'.");
      const wrongService = await signedFetch(t.url, { method: "GET", path: "/2015-03-31/functions", service: "s3" });
      assert.equal(wrongService.status, 403);
      assert.equal(wrongService.errorType, "InvalidSignatureException");
      assert.match(wrongService.message ?? "", /'lambda'/);
    });

    test("/healthz answers 200 without authentication and reveals nothing", async () => {
      const r = await plainFetch(t.url, "/healthz");
      assert.equal(r.status, 200);
      assert.deepEqual(r.json(), { status: "ok" });
      assert.equal(r.headers.get("server"), null);
      assert.equal(r.headers.get("x-powered-by"), null);
      for (const secretish of [ROOT_KEY.accessKeyId, "000000000000", t.dataDir, "kiln", "version"]) assert.ok(!r.text.includes(secretish), `healthz mentions ${secretish}`);
    });
  });

  describe("accounts and tenant isolation", () => {
    let alice: { AccountId: string; AccessKeyId: string; SecretAccessKey: string };
    let bob: { AccountId: string; AccessKeyId: string; SecretAccessKey: string };
    let a: LambdaClient;
    let b: LambdaClient;

    const deployAs = async (c: LambdaClient, name: string, owner: string) => {
      await c.send(new CreateFunctionCommand({ FunctionName: name, Runtime: "nodejs20.x", Handler: "index.handler", Role: ROLE, Code: { ZipFile: await zipFiles({ "index.js": owned(owner) }) } }));
      await waitUntilFunctionActiveV2({ client: c, maxWaitTime: 30, minDelay: 1 }, { FunctionName: name });
    };
    const ownerOf = async (c: LambdaClient, name: string) => {
      const r = await c.send(new InvokeCommand({ FunctionName: name }));
      assert.equal(r.FunctionError, undefined, Buffer.from(r.Payload ?? []).toString());
      return (json(r.Payload) as { owner: string }).owner;
    };

    test("root creates accounts through the admin API: 201 with AccountId and a working key pair", async () => {
      const r = await signedFetch(t.url, { method: "POST", path: "/kiln/2026-01-01/accounts", body: JSON.stringify({ Name: "alice" }) });
      assert.equal(r.status, 201, r.text);
      alice = r.json() as typeof alice;
      assert.match(alice.AccountId, /^\d{12}$/);
      assert.notEqual(alice.AccountId, "000000000000");
      assert.match(alice.AccessKeyId, /^[A-Z0-9]{16,128}$/);
      assert.ok(alice.SecretAccessKey.length >= 30);
      bob = await createAccount(t.url, "bob");
      assert.notEqual(bob.AccountId, alice.AccountId);
      assert.notEqual(bob.AccessKeyId, alice.AccessKeyId);
      a = t.client(keysOf(alice));
      b = t.client(keysOf(bob));
      assert.deepEqual((await a.send(new ListFunctionsCommand({}))).Functions, []);

      const dup = await signedFetch(t.url, { method: "POST", path: "/kiln/2026-01-01/accounts", body: JSON.stringify({ Name: "alice" }) });
      assert.equal(dup.status, 409);
      assert.equal(dup.errorType, "ResourceConflictException");
      const unsigned = await plainFetch(t.url, "/kiln/2026-01-01/accounts", { method: "POST", body: JSON.stringify({ Name: "mallory" }) });
      assert.equal(unsigned.status, 403);
      assert.equal(unsigned.errorType, "MissingAuthenticationTokenException");
    });

    test("root reads the operator metrics (sandbox driver, accelerator, environments, pool); other accounts get 403", async () => {
      const r = await signedFetch(t.url, { method: "GET", path: "/kiln/2026-01-01/metrics" });
      assert.equal(r.status, 200, r.text);
      const m = r.json() as any;
      if (process.env.KILN_TEST_ISOLATION === "microvm") assert.ok(m.sandbox.driver === "microvm" && ["kvm", "tcg"].includes(m.sandbox.accelerator), JSON.stringify(m));
      else assert.deepEqual(m.sandbox, { driver: "process", accelerator: null, acceleratorReason: null });
      assert.equal(typeof m.environments, "number");
      assert.equal(typeof m.pool.enabled, "boolean");
      const denied = await signedFetch(t.url, { method: "GET", path: "/kiln/2026-01-01/metrics", keys: keysOf(alice) });
      assert.equal(denied.status, 403);
      assert.equal(denied.errorType, "AccessDeniedException");
    });

    test("a non-root account cannot create accounts: 403 AccessDeniedException", async () => {
      const asAlice: Keys = keysOf(alice);
      const r = await signedFetch(t.url, { method: "POST", path: "/kiln/2026-01-01/accounts", body: JSON.stringify({ Name: "mallory" }), keys: asAlice });
      assert.equal(r.status, 403);
      assert.equal(r.errorType, "AccessDeniedException");
      assert.match(r.message ?? "", /root/);
      // And no such account came to be: the name is still free for root.
      const again = await signedFetch(t.url, { method: "POST", path: "/kiln/2026-01-01/accounts", body: JSON.stringify({ Name: "mallory" }) });
      assert.equal(again.status, 201, again.text);
    });

    test("account B cannot get, invoke, update, delete or list account A's function, by name or by A's ARN", async () => {
      await deployAs(a, "private", "alice");
      const before = await a.send(new GetFunctionConfigurationCommand({ FunctionName: "private" }));
      assert.equal(before.FunctionArn, arn(alice.AccountId, "private"));

      const byName = { name: "ResourceNotFoundException", status: 404, message: `Function not found: ${arn(bob.AccountId, "private")}` };
      const byArn = { name: "ResourceNotFoundException", status: 404, message: `Function not found: ${arn(alice.AccountId, "private")}` };
      const zip = await zipFiles({ "index.js": owned("bob") });
      for (const [FunctionName, want] of [
        ["private", byName],
        [arn(alice.AccountId, "private"), byArn],
        [`${alice.AccountId}:function:private`, byArn],
      ] as const) {
        await rejectsAws(b.send(new GetFunctionCommand({ FunctionName })), want);
        await rejectsAws(b.send(new GetFunctionConfigurationCommand({ FunctionName })), want);
        await rejectsAws(b.send(new InvokeCommand({ FunctionName, Payload: Buffer.from("{}") })), want);
        await rejectsAws(b.send(new InvokeCommand({ FunctionName, InvocationType: "DryRun" })), want);
        await rejectsAws(b.send(new UpdateFunctionConfigurationCommand({ FunctionName, Timeout: 9 })), want);
        await rejectsAws(b.send(new UpdateFunctionCodeCommand({ FunctionName, ZipFile: zip })), want);
        await rejectsAws(b.send(new DeleteFunctionCommand({ FunctionName })), want);
      }
      assert.deepEqual((await b.send(new ListFunctionsCommand({}))).Functions, []);
      assert.ok(!(await root.send(new ListFunctionsCommand({}))).Functions?.some((f) => f.FunctionName === "private"), "root does not see it either");

      // Account A's function is untouched.
      const after = await a.send(new GetFunctionConfigurationCommand({ FunctionName: "private" }));
      assert.equal(after.RevisionId, before.RevisionId);
      assert.equal(after.Timeout, before.Timeout);
      assert.equal(after.CodeSha256, before.CodeSha256);
      assert.equal(await ownerOf(a, "private"), "alice");
    });

    test("the same name in two accounts is two distinct functions", async () => {
      await deployAs(a, "twin", "alice");
      await deployAs(b, "twin", "bob");
      const [ca, cb] = await Promise.all([a.send(new GetFunctionConfigurationCommand({ FunctionName: "twin" })), b.send(new GetFunctionConfigurationCommand({ FunctionName: "twin" }))]);
      assert.equal(ca.FunctionArn, arn(alice.AccountId, "twin"));
      assert.equal(cb.FunctionArn, arn(bob.AccountId, "twin"));
      assert.notEqual(ca.CodeSha256, cb.CodeSha256);
      assert.equal(await ownerOf(a, "twin"), "alice");
      assert.equal(await ownerOf(b, "twin"), "bob");
      assert.equal(await ownerOf(b, arn(bob.AccountId, "twin")), "bob");
      assert.deepEqual((await b.send(new ListFunctionsCommand({}))).Functions?.map((f) => f.FunctionName), ["twin"]);
      assert.deepEqual((await a.send(new ListFunctionsCommand({}))).Functions?.map((f) => f.FunctionName).sort(), ["private", "twin"]);

      // Each account reads only its own function's logs from the same log group name.
      const logsOf = async (keys: Keys) => {
        const r = await signedFetch(t.url, {
          method: "POST",
          path: "/",
          service: "logs",
          keys,
          body: JSON.stringify({ logGroupName: "/aws/lambda/twin" }),
          headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "Logs_20140328.FilterLogEvents" },
        });
        assert.equal(r.status, 200, r.text);
        return (r.json() as { events: Array<{ message: string }> }).events.map((e) => e.message).join("");
      };
      const [logsA, logsB] = await Promise.all([logsOf(keysOf(alice)), logsOf(keysOf(bob))]);
      assert.match(logsA, /log line of alice/);
      assert.doesNotMatch(logsA, /log line of bob/);
      assert.match(logsB, /log line of bob/);
      assert.doesNotMatch(logsB, /log line of alice/);

      // Deleting B's twin leaves A's.
      await b.send(new DeleteFunctionCommand({ FunctionName: "twin" }));
      await rejectsAws(b.send(new GetFunctionCommand({ FunctionName: "twin" })), { name: "ResourceNotFoundException", status: 404 });
      assert.equal(await ownerOf(a, "twin"), "alice");
    });
  });
});
