/**
 * Versions and aliases together with layers and function URLs, end to end through
 * @aws-sdk/client-lambda: a published version keeps the layers it was published with while
 * $LATEST moves on, and a function URL on an alias runs whatever version the alias points to,
 * following it when it moves and going away with it.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  CreateFunctionUrlConfigCommand,
  DeleteAliasCommand,
  GetFunctionConfigurationCommand,
  GetFunctionUrlConfigCommand,
  PublishLayerVersionCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
  type LambdaClient,
} from "@aws-sdk/client-lambda";
import { zipFiles } from "../../src/artifacts/index.js";
import { ROLE, startKiln, type TestKiln } from "../support/kiln.js";
import { rejectsAws } from "../support/aws-errors.js";
import { plainFetch } from "../support/signed-fetch.js";
import { arnOf, invoke } from "./fixtures.js";

const HANDLER = `exports.handler = async () => ({ code: require("msg")(), version: process.env.AWS_LAMBDA_FUNCTION_VERSION });`;

describe("versions and aliases with layers and function URLs", { timeout: 90_000 }, () => {
  let t: TestKiln;
  let c: LambdaClient;
  let layer1: string;
  let layer2: string;

  before(async () => {
    t = await startKiln();
    c = t.client();
    const layer = async (word: string) =>
      (await c.send(new PublishLayerVersionCommand({ LayerName: "msg", Content: { ZipFile: await zipFiles({ "nodejs/node_modules/msg/index.js": `module.exports = () => "${word}";` }) } }))).LayerVersionArn!;
    layer1 = await layer("one");
    layer2 = await layer("two");
  });

  after(async () => {
    await t?.stop();
  });

  test("a version keeps the layers it was published with; $LATEST moves on", async () => {
    await c.send(new CreateFunctionCommand({ FunctionName: "rel", Runtime: "nodejs20.x", Handler: "index.handler", Role: ROLE, Code: { ZipFile: await zipFiles({ "index.js": HANDLER }) }, Layers: [layer1] }));
    await waitUntilFunctionActiveV2({ client: c, maxWaitTime: 30, minDelay: 1 }, { FunctionName: "rel" });
    assert.equal((await c.send(new PublishVersionCommand({ FunctionName: "rel" }))).Version, "1");
    await c.send(new UpdateFunctionConfigurationCommand({ FunctionName: "rel", Layers: [layer2] }));
    await waitUntilFunctionUpdatedV2({ client: c, maxWaitTime: 30, minDelay: 1 }, { FunctionName: "rel" });
    const v2 = await c.send(new PublishVersionCommand({ FunctionName: "rel" }));
    assert.equal(v2.Version, "2", "a change of layers is a change worth a version");
    assert.deepEqual(v2.Layers?.map((l) => l.Arn), [layer2]);
    assert.deepEqual((await c.send(new GetFunctionConfigurationCommand({ FunctionName: "rel:1" }))).Layers?.map((l) => l.Arn), [layer1]);

    assert.equal((await invoke(c, { FunctionName: "rel:1" })).body.code, "one");
    assert.equal((await invoke(c, { FunctionName: "rel:2" })).body.code, "two");
    assert.equal((await invoke(c, { FunctionName: "rel" })).body.code, "two");
  });

  test("a function URL on an alias runs the alias's version, follows it, and goes away with it", async () => {
    await c.send(new CreateAliasCommand({ FunctionName: "rel", Name: "live", FunctionVersion: "1" }));
    const url = await c.send(new CreateFunctionUrlConfigCommand({ FunctionName: "rel", Qualifier: "live", AuthType: "NONE" }));
    assert.equal(url.FunctionArn, arnOf("rel", "live"));
    const id = new URL(url.FunctionUrl!).hostname.split(".")[0]!;
    const call = async () => {
      const r = await plainFetch(t.url, `/lambda-url/${id}/`);
      assert.equal(r.status, 200, r.text);
      return r.json() as { code: string; version: string };
    };
    assert.deepEqual(await call(), { code: "one", version: "1" });
    await c.send(new UpdateAliasCommand({ FunctionName: "rel", Name: "live", FunctionVersion: "2" }));
    assert.deepEqual(await call(), { code: "two", version: "2" }, "the URL follows the alias");

    await c.send(new DeleteAliasCommand({ FunctionName: "rel", Name: "live" }));
    let status = 0;
    for (let i = 0; i < 50 && status !== 403; i++) {
      status = (await plainFetch(t.url, `/lambda-url/${id}/`)).status;
      if (status !== 403) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(status, 403, "the alias's URL went with it");
    await rejectsAws(c.send(new GetFunctionUrlConfigCommand({ FunctionName: "rel", Qualifier: "live" })), { name: "ResourceNotFoundException", status: 404 });
  });
});
