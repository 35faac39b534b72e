/**
 * End to end, layers through @aws-sdk/client-lambda (and a few AWS CLI calls) against a real
 * standalone server with real sandboxes: publishing, numbering, get (also by ARN), list with
 * filters and paging, idempotent delete; functions with up to 5 layers merged read-only under /opt
 * in order, seen from nodejs20.x (NODE_PATH), python3.11 (/opt/python) and provided.al2023
 * (/opt/bin on PATH); a deleted layer version still serving the functions that use it; and every
 * bad input with AWS's exception, status and message, leaving nothing changed.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  CreateFunctionCommand,
  DeleteLayerVersionCommand,
  GetFunctionCommand,
  GetLayerVersionByArnCommand,
  GetLayerVersionCommand,
  InvokeCommand,
  ListLayersCommand,
  ListLayerVersionsCommand,
  PublishLayerVersionCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionUpdatedV2,
  type LambdaClient,
  type Runtime,
} from "@aws-sdk/client-lambda";
import { zipFiles } from "../../src/artifacts/index.js";
import { ROLE, json, startKiln, writeScratch, type TestKiln } from "../support/kiln.js";
import { rejectsAws } from "../support/aws-errors.js";
import { createAccount, keysOf } from "../support/signed-fetch.js";

const ACCOUNT = "000000000000";
const layerArnOf = (name: string, version?: number, account = ACCOUNT) => `arn:aws:lambda:us-east-1:${account}:layer:${name}${version === undefined ? "" : `:${version}`}`;
const LAMBDA_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/;
const NOT_FOUND = { name: "ResourceNotFoundException", status: 404, message: "The resource you requested does not exist." };

describe("layers", { timeout: 110_000 }, () => {
  let t: TestKiln;
  let c: LambdaClient;

  async function publish(name: string, files: Parameters<typeof zipFiles>[0], extra: { CompatibleRuntimes?: Runtime[]; CompatibleArchitectures?: ("x86_64" | "arm64")[]; Description?: string } = {}) {
    return c.send(new PublishLayerVersionCommand({ LayerName: name, Content: { ZipFile: await zipFiles(files) }, ...extra }));
  }

  async function invoke(name: string): Promise<{ body: unknown; error?: string }> {
    const r = await c.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from("{}") }));
    return { body: json(r.Payload), ...(r.FunctionError ? { error: r.FunctionError } : {}) };
  }

  before(async () => {
    t = await startKiln();
    c = t.client();
  });

  after(async () => {
    await t?.stop();
  });

  test("PublishLayerVersion numbers versions per layer name; Content, ARNs and metadata as AWS reports them", async () => {
    const zip = await zipFiles({ "nodejs/node_modules/greet/index.js": "module.exports = () => 'v1';" });
    const v1 = await c.send(new PublishLayerVersionCommand({ LayerName: "meta", Content: { ZipFile: zip }, Description: "first", CompatibleRuntimes: ["nodejs20.x", "java8"], LicenseInfo: "MIT", CompatibleArchitectures: ["x86_64"] }));
    assert.equal(v1.$metadata.httpStatusCode, 201);
    assert.equal(v1.Version, 1);
    assert.equal(v1.LayerArn, layerArnOf("meta"));
    assert.equal(v1.LayerVersionArn, layerArnOf("meta", 1));
    assert.equal(v1.Description, "first");
    assert.equal(v1.LicenseInfo, "MIT");
    assert.deepEqual(v1.CompatibleRuntimes, ["nodejs20.x", "java8"]);
    assert.deepEqual(v1.CompatibleArchitectures, ["x86_64"]);
    assert.match(v1.CreatedDate ?? "", LAMBDA_DATE);
    assert.equal(v1.Content?.CodeSha256, createHash("sha256").update(zip).digest("base64"));
    assert.equal(v1.Content?.CodeSize, zip.length);
    const download = await fetch(v1.Content?.Location ?? "");
    assert.equal(download.status, 200);
    assert.ok(Buffer.from(await download.arrayBuffer()).equals(zip), "Content.Location serves the package");

    const v2 = await publish("meta", { "python/m.py": "X = 2" }, { CompatibleRuntimes: ["python3.11"] });
    assert.equal(v2.Version, 2);
    assert.equal(v2.Description, "");
    const other = await publish("other-layer", { "a.txt": "a" });
    assert.equal(other.Version, 1, "numbering is per layer name");
  });

  test("GetLayerVersion, by name and by ARN; ListLayerVersions newest first, filtered and paged; ListLayers", async () => {
    const got = await c.send(new GetLayerVersionCommand({ LayerName: "meta", VersionNumber: 1 }));
    assert.equal(got.LayerVersionArn, layerArnOf("meta", 1));
    assert.equal(got.Description, "first");
    const byArn = await c.send(new GetLayerVersionByArnCommand({ Arn: layerArnOf("meta", 2) }));
    assert.equal(byArn.Version, 2);
    const byLayerArn = await c.send(new GetLayerVersionCommand({ LayerName: layerArnOf("meta"), VersionNumber: 2 }));
    assert.equal(byLayerArn.Version, 2);

    const all = await c.send(new ListLayerVersionsCommand({ LayerName: "meta" }));
    assert.deepEqual(all.LayerVersions?.map((v) => v.Version), [2, 1]);
    const py = await c.send(new ListLayerVersionsCommand({ LayerName: "meta", CompatibleRuntime: "python3.11" }));
    assert.deepEqual(py.LayerVersions?.map((v) => v.Version), [2]);
    const page1 = await c.send(new ListLayerVersionsCommand({ LayerName: "meta", MaxItems: 1 }));
    assert.deepEqual(page1.LayerVersions?.map((v) => v.Version), [2]);
    assert.ok(page1.NextMarker);
    const page2 = await c.send(new ListLayerVersionsCommand({ LayerName: "meta", MaxItems: 1, Marker: page1.NextMarker }));
    assert.deepEqual(page2.LayerVersions?.map((v) => v.Version), [1]);
    assert.equal(page2.NextMarker, undefined);

    const layers = await c.send(new ListLayersCommand({}));
    assert.deepEqual(
      layers.Layers?.map((l) => [l.LayerName, l.LayerArn, l.LatestMatchingVersion?.Version]),
      [
        ["meta", layerArnOf("meta"), 2],
        ["other-layer", layerArnOf("other-layer"), 1],
      ],
    );
    const nodeOnly = await c.send(new ListLayersCommand({ CompatibleRuntime: "nodejs20.x" }));
    assert.deepEqual(nodeOnly.Layers?.map((l) => [l.LayerName, l.LatestMatchingVersion?.Version]), [["meta", 1]], "the latest version matching the filter");
    const firstPage = await c.send(new ListLayersCommand({ MaxItems: 1 }));
    assert.deepEqual(firstPage.Layers?.map((l) => l.LayerName), ["meta"]);
    const secondPage = await c.send(new ListLayersCommand({ MaxItems: 1, Marker: firstPage.NextMarker }));
    assert.deepEqual(secondPage.Layers?.map((l) => l.LayerName), ["other-layer"]);
  });

  test("DeleteLayerVersion answers 204, again 204; the version is gone and numbers are never reused", async () => {
    const d1 = await c.send(new DeleteLayerVersionCommand({ LayerName: "other-layer", VersionNumber: 1 }));
    assert.equal(d1.$metadata.httpStatusCode, 204);
    const d2 = await c.send(new DeleteLayerVersionCommand({ LayerName: "other-layer", VersionNumber: 1 }));
    assert.equal(d2.$metadata.httpStatusCode, 204);
    await c.send(new DeleteLayerVersionCommand({ LayerName: "never-existed", VersionNumber: 9 }));
    await rejectsAws(c.send(new GetLayerVersionCommand({ LayerName: "other-layer", VersionNumber: 1 })), NOT_FOUND);
    const listed = await c.send(new ListLayersCommand({}));
    assert.deepEqual(listed.Layers?.map((l) => l.LayerName), ["meta"], "a layer without versions is not listed");
    const again = await publish("other-layer", { "b.txt": "b" });
    assert.equal(again.Version, 2);
  });

  test("bad input for the layer APIs: AWS's exception, status and message", async () => {
    const zip = await zipFiles({ "a.txt": "a" });
    await rejectsAws(c.send(new GetLayerVersionCommand({ LayerName: "meta", VersionNumber: 99 })), NOT_FOUND);
    await rejectsAws(c.send(new GetLayerVersionCommand({ LayerName: "nope", VersionNumber: 1 })), NOT_FOUND);
    await rejectsAws(c.send(new GetLayerVersionCommand({ LayerName: "meta", VersionNumber: 0 })), { name: "InvalidParameterValueException", status: 400, message: "Layer Version Cannot be less than 1" });
    await rejectsAws(c.send(new GetLayerVersionByArnCommand({ Arn: "arn:aws:lambda:us-east-1:000000000000:layer:meta" })), {
      name: "ValidationException",
      status: 400,
      message: /^1 validation error detected: Value 'arn:aws:lambda:us-east-1:000000000000:layer:meta' at 'arn' failed to satisfy constraint: Member must satisfy regular expression pattern: /,
    });
    await rejectsAws(c.send(new PublishLayerVersionCommand({ LayerName: "bad name!", Content: { ZipFile: zip } })), {
      name: "ValidationException",
      status: 400,
      message: /^1 validation error detected: Value 'bad name!' at 'layerName' failed to satisfy constraint: Member must satisfy regular expression pattern: /,
    });
    await rejectsAws(c.send(new PublishLayerVersionCommand({ LayerName: "x", Content: { ZipFile: zip }, CompatibleRuntimes: ["cobol" as Runtime] })), {
      name: "ValidationException",
      status: 400,
      message: /^1 validation error detected: Value '\[cobol\]' at 'compatibleRuntimes' failed to satisfy constraint: Member must satisfy enum value set: \[/,
    });
    await rejectsAws(c.send(new PublishLayerVersionCommand({ LayerName: "x", Content: { ZipFile: zip }, CompatibleRuntimes: Array.from({ length: 16 }, () => "nodejs20.x" as Runtime) })), {
      name: "ValidationException",
      status: 400,
      message: /at 'compatibleRuntimes' failed to satisfy constraint: Member must have length less than or equal to 15$/,
    });
    await rejectsAws(c.send(new PublishLayerVersionCommand({ LayerName: "x", Content: { ZipFile: zip }, CompatibleArchitectures: ["x86_64", "arm64", "x86_64"] })), {
      name: "ValidationException",
      status: 400,
      message: /at 'compatibleArchitectures' failed to satisfy constraint: Member must have length less than or equal to 2$/,
    });
    await rejectsAws(c.send(new PublishLayerVersionCommand({ LayerName: "x", Content: { ZipFile: Buffer.from("not a zip") } })), { name: "InvalidParameterValueException", status: 400 });
    await rejectsAws(c.send(new ListLayersCommand({ MaxItems: 51 })), { name: "ValidationException", status: 400, message: /Value '51' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 50$/ });
    await rejectsAws(c.send(new ListLayerVersionsCommand({ LayerName: "meta", CompatibleArchitecture: "mips" as "arm64" })), { name: "ValidationException", status: 400, message: /at 'compatibleArchitecture'/ });
    await rejectsAws(c.send(new GetLayerVersionCommand({ LayerName: "x", VersionNumber: 1 })), NOT_FOUND);
    assert.deepEqual((await c.send(new ListLayersCommand({}))).Layers?.map((l) => l.LayerName), ["meta", "other-layer"], "no failed publish created a layer");
  });

  test("another account's layers are not reachable: AccessDeniedException", async () => {
    const b = await createAccount(t.url, "layers-b");
    const cb = t.client(keysOf(b));
    const arn = layerArnOf("meta", 1);
    await rejectsAws(cb.send(new GetLayerVersionByArnCommand({ Arn: arn })), {
      name: "AccessDeniedException",
      status: 403,
      message: `User: arn:aws:iam::${b.AccountId}:root is not authorized to perform: lambda:GetLayerVersion on resource: ${arn} because no resource-based policy allows the lambda:GetLayerVersion action`,
    });
    assert.deepEqual((await cb.send(new ListLayersCommand({}))).Layers, [], "accounts do not see each other's layers");
    await rejectsAws(cb.send(new CreateFunctionCommand({ FunctionName: "b-fn", Runtime: "nodejs20.x", Handler: "index.handler", Role: ROLE, Code: { ZipFile: await zipFiles({ "index.js": "" }) }, Layers: [arn] })), {
      name: "AccessDeniedException",
      status: 403,
      message: `User: arn:aws:iam::${b.AccountId}:root is not authorized to perform: lambda:GetLayerVersion on resource: ${arn} because no resource-based policy allows the lambda:GetLayerVersion action`,
    });
    await rejectsAws(cb.send(new GetFunctionCommand({ FunctionName: "b-fn" })), { name: "ResourceNotFoundException", status: 404 });
  });

  test("nodejs20.x: two layers merged under /opt in order (the later wins a path, both contribute), read-only", async () => {
    const a = await publish("node-a", {
      "nodejs/node_modules/greet/index.js": "module.exports = () => 'greet from A';",
      "nodejs/node_modules/only-a/index.js": "module.exports = 'only in A';",
    });
    const b = await publish("node-b", { "nodejs/node_modules/greet/index.js": "module.exports = () => 'greet from B';" });
    const source = `
const fs = require("node:fs");
exports.handler = async () => {
  let write;
  try { fs.writeFileSync("/opt/nodejs/x", "x"); write = "written"; } catch (e) { write = e.code; }
  return { greet: require("greet")(), onlyA: require("only-a"), write, opt: fs.readdirSync("/opt").sort() };
};`;
    await t.deploy("node-layers", "nodejs20.x", "index.handler", { "index.js": source }, { Layers: [a.LayerVersionArn, b.LayerVersionArn] });
    const r = await invoke("node-layers");
    assert.equal(r.error, undefined, JSON.stringify(r.body));
    assert.deepEqual(r.body, { greet: "greet from B", onlyA: "only in A", write: "EROFS", opt: ["nodejs"] });

    const cfg = await c.send(new GetFunctionCommand({ FunctionName: "node-layers" }));
    assert.deepEqual(
      cfg.Configuration?.Layers?.map((l) => [l.Arn, l.CodeSize]),
      [
        [a.LayerVersionArn, a.Content?.CodeSize],
        [b.LayerVersionArn, b.Content?.CodeSize],
      ],
    );

    // Order matters: swapped, A wins.
    await c.send(new UpdateFunctionConfigurationCommand({ FunctionName: "node-layers", Layers: [b.LayerVersionArn!, a.LayerVersionArn!] }));
    await waitUntilFunctionUpdatedV2({ client: c, maxWaitTime: 30, minDelay: 1 }, { FunctionName: "node-layers" });
    assert.equal(((await invoke("node-layers")).body as { greet: string }).greet, "greet from A");

    // A deleted layer version keeps serving the functions that reference it, cold starts included.
    await c.send(new DeleteLayerVersionCommand({ LayerName: "node-a", VersionNumber: a.Version! }));
    await c.send(new UpdateFunctionConfigurationCommand({ FunctionName: "node-layers", Environment: { Variables: { COLD: "1" } } }));
    await waitUntilFunctionUpdatedV2({ client: c, maxWaitTime: 30, minDelay: 1 }, { FunctionName: "node-layers" });
    const afterDelete = await invoke("node-layers");
    assert.equal(afterDelete.error, undefined, JSON.stringify(afterDelete.body));
    assert.equal((afterDelete.body as { greet: string; onlyA: string }).onlyA, "only in A");
    // ... but it can no longer be attached.
    await rejectsAws(c.send(new UpdateFunctionConfigurationCommand({ FunctionName: "node-layers", Layers: [a.LayerVersionArn!] })), {
      name: "InvalidParameterValueException",
      status: 400,
      message: `Layer version ${a.LayerVersionArn} does not exist.`,
    });
    // Layers: [] detaches them all.
    await c.send(new UpdateFunctionConfigurationCommand({ FunctionName: "node-layers", Layers: [] }));
    await waitUntilFunctionUpdatedV2({ client: c, maxWaitTime: 30, minDelay: 1 }, { FunctionName: "node-layers" });
    const bare = await invoke("node-layers");
    assert.equal(bare.error, "Unhandled", "without layers, require('greet') fails");
    assert.equal((await c.send(new GetFunctionCommand({ FunctionName: "node-layers" }))).Configuration?.Layers, undefined);
  });

  test("python3.11 imports from a layer's python/", async () => {
    const layer = await publish("py-layer", { "python/layermod.py": "def hello():\n    return 'hello from a python layer'\n" }, { CompatibleRuntimes: ["python3.11"] });
    await t.deploy("py-layers", "python3.11", "app.handler", { "app.py": "import layermod\n\ndef handler(event, context):\n    return {'said': layermod.hello(), 'file': layermod.__file__}\n" }, { Layers: [layer.LayerVersionArn] });
    const r = await invoke("py-layers");
    assert.equal(r.error, undefined, JSON.stringify(r.body));
    assert.deepEqual(r.body, { said: "hello from a python layer", file: "/opt/python/layermod.py" });
  });

  test("provided.al2023 runs a binary from a layer's bin/ through PATH (AWS CLI publish-layer-version)", async () => {
    const zip = writeScratch(t, "tool-layer.zip", await zipFiles({ "bin/layer-tool": { data: "#!/bin/sh\necho \"tool says $1\"\n", mode: 0o755 } }));
    const r = await t.aws(["lambda", "publish-layer-version", "--layer-name", "tool-layer", "--zip-file", `fileb://${zip}`, "--compatible-runtimes", "provided.al2023", "--description", "a tool"]);
    assert.equal(r.code, 0, r.stderr);
    const published = JSON.parse(r.stdout) as { LayerVersionArn: string; Version: number; Description: string; CompatibleRuntimes: string[] };
    assert.equal(published.LayerVersionArn, layerArnOf("tool-layer", 1));
    assert.deepEqual(published.CompatibleRuntimes, ["provided.al2023"]);
    const bootstrap = `#!/bin/sh
set -eu
while true; do
  HEADERS=$(mktemp)
  curl -sS -D "$HEADERS" -o /dev/null "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/next"
  ID=$(grep -i Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  OUT=$(layer-tool hi)
  curl -sS -X POST "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/$ID/response" -d "{\\"out\\":\\"$OUT\\",\\"which\\":\\"$(command -v layer-tool)\\"}" >/dev/null
done
`;
    await t.deploy("custom-layers", "provided.al2023", "unused", { bootstrap: { data: bootstrap, mode: 0o755 } }, { Layers: [published.LayerVersionArn] });
    const out = await invoke("custom-layers");
    assert.equal(out.error, undefined, JSON.stringify(out.body));
    assert.deepEqual(out.body, { out: "tool says hi", which: "/opt/bin/layer-tool" });
    const listed = await t.aws(["lambda", "list-layer-versions", "--layer-name", "tool-layer"]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual((JSON.parse(listed.stdout) as { LayerVersions: Array<{ Version: number }> }).LayerVersions.map((v) => v.Version), [1]);
  });

  test("a function's Layers: AWS's errors for each bad list, and nothing is created or changed", async () => {
    const code = await zipFiles({ "index.js": "exports.handler = async () => 1;" });
    const l = await publish("dup", { "a.txt": "1" });
    const l2 = await publish("dup", { "a.txt": "2" });
    const create = (Layers: string[]) => c.send(new CreateFunctionCommand({ FunctionName: "bad-layers", Runtime: "nodejs20.x", Handler: "index.handler", Role: ROLE, Code: { ZipFile: code }, Layers }));
    const six = Array.from({ length: 6 }, (_, i) => layerArnOf(`l${i}`, 1));
    await rejectsAws(create(six), { name: "InvalidParameterValueException", status: 400, message: "Cannot reference more than 5 layers." });
    await rejectsAws(create([layerArnOf("dup")]), {
      name: "ValidationException",
      status: 400,
      message: /^1 validation error detected: Value '\[arn:aws:lambda:us-east-1:000000000000:layer:dup\]' at 'layers' failed to satisfy constraint: Member must satisfy constraint: \[/,
    });
    await rejectsAws(create([layerArnOf("dup", 7)]), { name: "InvalidParameterValueException", status: 400, message: `Layer version ${layerArnOf("dup", 7)} does not exist.` });
    await rejectsAws(create([l.LayerVersionArn!, l2.LayerVersionArn!]), {
      name: "InvalidParameterValueException",
      status: 400,
      message: `Two different versions of the same layer are not allowed to be referenced in the same function. ${l.LayerVersionArn} and ${l2.LayerVersionArn} are versions of the same layer.`,
    });
    await rejectsAws(create(["arn:aws:lambda:eu-west-1:000000000000:layer:dup:1"]), {
      name: "InvalidParameterValueException",
      status: 400,
      message: "Layers are not in the same region as the function. Layers are expected to be in region us-east-1.",
    });
    await rejectsAws(create([layerArnOf("dup", 1, "123456789012")]), { name: "AccessDeniedException", status: 403, message: /^User: arn:aws:iam::000000000000:root is not authorized to perform: lambda:GetLayerVersion on resource: arn:aws:lambda:us-east-1:123456789012:layer:dup:1 / });
    await rejectsAws(c.send(new GetFunctionCommand({ FunctionName: "bad-layers" })), { name: "ResourceNotFoundException", status: 404 });

    const before = (await c.send(new GetFunctionCommand({ FunctionName: "py-layers" }))).Configuration!;
    await rejectsAws(c.send(new UpdateFunctionConfigurationCommand({ FunctionName: "py-layers", Layers: six, Timeout: 9 })), { name: "InvalidParameterValueException", status: 400, message: "Cannot reference more than 5 layers." });
    await rejectsAws(c.send(new UpdateFunctionConfigurationCommand({ FunctionName: "py-layers", Layers: [l.LayerVersionArn!, l2.LayerVersionArn!], Timeout: 9 })), { name: "InvalidParameterValueException", status: 400 });
    const after = (await c.send(new GetFunctionCommand({ FunctionName: "py-layers" }))).Configuration!;
    assert.equal(after.RevisionId, before.RevisionId, "a refused update changes nothing");
    assert.equal(after.Timeout, before.Timeout);
    assert.deepEqual(after.Layers, before.Layers);
  });

  test("the 250 MB unzipped limit counts the function and its layers", async () => {
    // Two layers of 131 MB of zeros (a few hundred KB zipped) with a tiny function: 262,200,000+ bytes unzipped.
    const big = Buffer.alloc(131_100_000);
    const l1 = await publish("big1", { "big1.bin": big });
    const l2 = await publish("big2", { "big2.bin": big });
    const code = await zipFiles({ "index.js": "exports.handler = async () => 1;" });
    const total = 2 * 131_100_000 + "exports.handler = async () => 1;".length;
    await rejectsAws(
      c.send(new CreateFunctionCommand({ FunctionName: "too-big", Runtime: "nodejs20.x", Handler: "index.handler", Role: ROLE, Code: { ZipFile: code }, Layers: [l1.LayerVersionArn!, l2.LayerVersionArn!] })),
      { name: "InvalidParameterValueException", status: 400, message: `Function code combined with layers exceeds the maximum allowed size of 262144000 bytes. The actual size is ${total} bytes.` },
    );
    await rejectsAws(c.send(new GetFunctionCommand({ FunctionName: "too-big" })), { name: "ResourceNotFoundException", status: 404 });
    await rejectsAws(c.send(new UpdateFunctionConfigurationCommand({ FunctionName: "py-layers", Layers: [l1.LayerVersionArn!, l2.LayerVersionArn!] })), {
      name: "InvalidParameterValueException",
      status: 400,
      message: /^Function code combined with layers exceeds the maximum allowed size of 262144000 bytes\. The actual size is \d+ bytes\.$/,
    });
    await c.send(new DeleteLayerVersionCommand({ LayerName: "big1", VersionNumber: 1 }));
    await c.send(new DeleteLayerVersionCommand({ LayerName: "big2", VersionNumber: 1 }));
  });
});
