/**
 * SnapStart end to end: CreateFunction / UpdateFunctionConfiguration with SnapStart, PublishVersion
 * making a V8 startup snapshot of the initialized function in a jail, cold starts of the version
 * restoring from it, uniqueness across clones, after-restore hooks, and honest reasons where a
 * function (or a runtime) cannot be snapshotted. Real server, real jails, the AWS SDK as client.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  DeleteFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  PublishVersionCommand,
  UpdateFunctionConfigurationCommand,
  type FunctionConfiguration,
  type LambdaClient,
} from "@aws-sdk/client-lambda";
import { json, startKiln, type TestKiln } from "../support/kiln.js";
import { rejectsAws } from "../support/aws-errors.js";
import { signedFetch } from "../support/signed-fetch.js";

let k: TestKiln;
let c: LambdaClient;

before(async () => {
  k = await startKiln({ poolMin: 1, poolMax: 2 });
  c = k.client();
});
after(async () => k.stop());

const SNAP = { SnapStart: { ApplyOn: "PublishedVersions" as const } };

const invoke = async (name: string, qualifier: string | undefined, payload: unknown = {}) => {
  const r = await c.send(new InvokeCommand({ FunctionName: name, Qualifier: qualifier, Payload: Buffer.from(JSON.stringify(payload)), LogType: "Tail" }));
  return { error: r.FunctionError, body: json(r.Payload) as any, log: Buffer.from(r.LogResult ?? "", "base64").toString() };
};

/** Publishes and waits until the version is no longer Pending (its snapshot is made). */
async function publish(name: string): Promise<{ published: FunctionConfiguration; active: FunctionConfiguration; raw: any }> {
  const published = await c.send(new PublishVersionCommand({ FunctionName: name }));
  let active: FunctionConfiguration = published;
  for (let i = 0; i < 600 && active.State === "Pending"; i++) {
    await new Promise((r) => setTimeout(r, 100));
    active = await c.send(new GetFunctionConfigurationCommand({ FunctionName: name, Qualifier: published.Version }));
  }
  const raw = (await signedFetch(k.url, { method: "GET", path: `/2015-03-31/functions/${name}/configuration?Qualifier=${published.Version}` })).json();
  return { published, active, raw };
}

describe("SnapStart", { timeout: 240_000 }, () => {
  test("a published nodejs20.x version restores from its snapshot: clones share init, never random values; hooks run", async () => {
    await k.deploy(
      "snappy",
      "nodejs20.x",
      "index.handler",
      {
        "index.mjs": `import { randomUUID, randomBytes, randomInt, getRandomValues } from "node:crypto";
import { readFileSync } from "node:fs";
const fresh = () => ({ r: Math.random(), u: randomUUID(), b: randomBytes(8).toString("hex"), i: randomInt(2 ** 40), g: Buffer.from(getRandomValues(new Uint8Array(8))).toString("hex") });
const initAt = { ...fresh(), type: process.env.AWS_LAMBDA_INITIALIZATION_TYPE, hooksType: globalThis.kiln.initializationType, config: readFileSync(new URL("./config.json", import.meta.url), "utf8").trim() };
let beforeRan = false;
let restored = null;
globalThis.kiln.registerBeforeSnapshot(async () => { beforeRan = true; });
globalThis.kiln.registerAfterRestore(() => { restored = { u: randomUUID(), stream: process.env.AWS_LAMBDA_LOG_STREAM_NAME }; });
export const handler = async (e) => {
  if (e.wait) await new Promise((r) => setTimeout(r, e.wait));
  return { initAt, beforeRan, restored, now: fresh(), argv1: process.argv[1] ?? null, cwd: process.cwd(),
    env: { stream: process.env.AWS_LAMBDA_LOG_STREAM_NAME, type: process.env.AWS_LAMBDA_INITIALIZATION_TYPE, version: process.env.AWS_LAMBDA_FUNCTION_VERSION, greeting: process.env.GREETING } };
};`,
        "config.json": '{"from":"the package"}',
      },
      { ...SNAP, MemorySize: 256, Environment: { Variables: { GREETING: "hi" } } },
    );
    const latest = await c.send(new GetFunctionConfigurationCommand({ FunctionName: "snappy" }));
    assert.deepEqual(latest.SnapStart, { ApplyOn: "PublishedVersions", OptimizationStatus: "Off" }, "$LATEST never runs from a snapshot");

    const { published, active } = await publish("snappy");
    assert.equal(published.State, "Pending", "PublishVersion answers while the snapshot is being made");
    assert.equal(active.State, "Active");
    assert.deepEqual(active.SnapStart, { ApplyOn: "PublishedVersions", OptimizationStatus: "On" });

    const clones = await Promise.all([1, 2, 3].map(() => invoke("snappy", "1", { wait: 500 })));
    for (const r of clones) {
      assert.equal(r.error, undefined, JSON.stringify(r.body));
      assert.match(r.log, /Restore Duration: [\d.]+ ms\tBilled Restore Duration: \d+ ms/);
      assert.doesNotMatch(r.log, /Init Duration/);
    }
    const bodies = clones.map((r) => r.body);
    assert.equal(new Set(bodies.map((b) => JSON.stringify(b.initAt))).size, 1, "init ran once, at publish: every clone restored the same heap");
    assert.equal(bodies[0].initAt.type, "snap-start");
    assert.equal(bodies[0].initAt.hooksType, "snap-start");
    assert.equal(bodies[0].initAt.config, '{"from":"the package"}', "import.meta.url still names the file in /var/task");
    assert.equal(bodies[0].beforeRan, true, "before-snapshot hooks ran before the snapshot");
    for (const field of ["r", "u", "b", "i", "g"]) {
      const values = bodies.map((b) => b.now[field]);
      assert.equal(new Set(values).size, 3, `${field}: the clones drew distinct values (${values.join(", ")})`);
      assert.ok(!values.includes(bodies[0].initAt[field]), `${field}: no clone repeats the value drawn at init`);
    }
    assert.equal(new Set(bodies.map((b) => b.restored.u)).size, 3, "after-restore hooks ran in every clone");
    for (const b of bodies) {
      assert.equal(b.restored.stream, b.env.stream, "hooks and handler see the restored environment's own log stream");
      assert.deepEqual({ ...b.env, stream: undefined }, { stream: undefined, type: "snap-start", version: "1", greeting: "hi" });
      assert.equal(b.cwd, "/var/task");
    }
    assert.equal(new Set(bodies.map((b) => b.env.stream)).size, 3);
    const envs = k.kiln.worker.environments().filter((e) => e.configKey.endsWith("/snappy"));
    assert.equal(envs.length, 3);

    // Those restores made demand for sandboxes restored ahead from this snapshot: the next ones come from them.
    await k.kiln.worker.poolFilled();
    const hits = k.kiln.worker.poolStats()!.hits;
    const more = await Promise.all([1, 2, 3, 4, 5].map(() => invoke("snappy", "1", { wait: 500 })));
    const fresh = more.filter((r) => /Restore Duration/.test(r.log));
    assert.ok(fresh.length >= 2, "the three warm environments were busy: new ones were restored");
    assert.ok(k.kiln.worker.poolStats()!.hits - hits >= 1, "restores took sandboxes restored ahead of them");
    assert.ok(k.kiln.worker.environments().some((e) => e.configKey.endsWith("/snappy") && e.pooled));
    const all = [...bodies, ...fresh.map((r) => r.body)];
    for (const b of fresh.map((r) => r.body)) {
      assert.deepEqual(b.initAt, bodies[0].initAt, "a pooled restore runs the same snapshot");
      assert.equal(b.env.type, "snap-start");
      assert.equal(b.env.greeting, "hi");
    }
    for (const field of ["r", "u", "b", "i", "g"]) assert.equal(new Set(all.map((b) => b.now[field])).size, all.length, `${field}: distinct in every clone, pooled or not`);
    assert.equal(new Set(all.map((b) => b.restored.u)).size, all.length);

    const plain = await invoke("snappy", undefined, {});
    assert.match(plain.log, /Init Duration/);
    assert.equal(plain.body.initAt.type, "on-demand");
    assert.equal(plain.body.restored, null);
  });

  test("a version whose variables Node reads at start restores through the exec launcher, with those variables in effect", async () => {
    await k.deploy(
      "snap-opts",
      "nodejs20.x",
      "index.handler",
      {
        "index.js": `exports.handler = async (e) => { if (e.wait) await new Promise((r) => setTimeout(r, e.wait));
  return { id: process.env.AWS_LAMBDA_LOG_STREAM_NAME, noDeprecation: process.noDeprecation === true, options: process.env.NODE_OPTIONS, environ: require("node:fs").readFileSync("/proc/self/environ", "utf8").split("\\0").filter(Boolean).sort() }; };`,
      },
      { ...SNAP, Environment: { Variables: { NODE_OPTIONS: "--no-deprecation" } } },
    );
    assert.equal((await publish("snap-opts")).active.SnapStart?.OptimizationStatus, "On");
    const first = await invoke("snap-opts", "1", { wait: 300 });
    assert.match(first.log, /Restore Duration/);
    await k.kiln.worker.poolFilled();
    assert.ok(k.kiln.worker.poolStats()!.classes.some((c) => c.kind === "snapstart" && c.idle >= 1), "demand for the launcher kind");
    const hits = k.kiln.worker.poolStats()!.hits;
    const pair = await Promise.all([invoke("snap-opts", "1", { wait: 300 }), invoke("snap-opts", "1", { wait: 300 })]);
    assert.ok(k.kiln.worker.poolStats()!.hits > hits, "a launcher sandbox served the second environment");
    assert.equal(new Set(pair.map((r) => r.body.id)).size, 2, "two environments, one of them new");
    for (const r of [first, ...pair]) {
      assert.equal(r.error, undefined, JSON.stringify(r.body));
      assert.equal(r.body.noDeprecation, true, "NODE_OPTIONS reached Node: the launcher exec()ed it with the function's environment");
      assert.equal(r.body.options, "--no-deprecation");
      assert.ok(r.body.environ.includes("AWS_LAMBDA_INITIALIZATION_TYPE=snap-start"));
      assert.ok(!r.body.environ.some((v: string) => v.startsWith("_KILN")), "/proc/self/environ is the function's: nothing of the boot environment");
    }
  });

  test("PublishVersion with SnapStart on functions that cannot be snapshotted still publishes, and says why", async () => {
    const cases: Array<{ name: string; runtime: string; handler: string; files: Record<string, string>; code: string; reason: RegExp }> = [
      {
        name: "snap-dynamic",
        runtime: "nodejs20.x",
        handler: "index.handler",
        files: { "index.js": "exports.handler = async (e) => require(e.module || 'node:os').platform();" },
        code: "DynamicImport",
        reason: /loads modules at run time.*require\(<expression>\)/,
      },
      {
        name: "snap-addon",
        runtime: "nodejs20.x",
        handler: "index.handler",
        files: { "index.js": "exports.handler = async () => 'no addon loaded';", "build/Release/addon.node": "\u007fELF not really" },
        code: "NativeAddon",
        reason: /native addons \(build\/Release\/addon\.node\)/,
      },
      {
        name: "snap-http",
        runtime: "nodejs20.x",
        handler: "index.handler",
        files: { "index.js": "const http = require('node:http'); exports.handler = async () => typeof http.request;" },
        code: "BuildFailed",
        reason: /node:http/,
      },
      {
        name: "snap-initfail",
        runtime: "nodejs20.x",
        handler: "index.handler",
        files: { "index.js": "if (!process.env.NOT_SET) throw new Error('configuration missing at init'); exports.handler = async () => 1;" },
        code: "InitFailed",
        reason: /init failed.*configuration missing at init/,
      },
      {
        name: "snap-python",
        runtime: "python3.11",
        handler: "app.handler",
        files: { "app.py": "def handler(event, context):\n    return 'python ran'\n" },
        code: "UnsupportedRuntime",
        reason: /not available for Python functions on Kiln: CPython has no startup-snapshot mechanism/,
      },
    ];
    for (const cs of cases) {
      await k.deploy(cs.name, cs.runtime, cs.handler, cs.files, SNAP);
      const { active, raw } = await publish(cs.name);
      assert.equal(active.State, "Active", `${cs.name}: the version is published and usable`);
      assert.deepEqual(active.SnapStart, { ApplyOn: "PublishedVersions", OptimizationStatus: "Off" }, cs.name);
      assert.match(active.StateReason ?? "", /^SnapStart is off for this version: /, `${cs.name}: every client sees why`);
      assert.equal(raw.SnapStart.OptimizationStatusReasonCode, cs.code, `${cs.name}: ${raw.SnapStart.OptimizationStatusReason}`);
      assert.match(raw.SnapStart.OptimizationStatusReason, cs.reason, cs.name);
    }
    // The versions run by plain init.
    assert.equal((await invoke("snap-dynamic", "1", {})).body, "linux");
    assert.equal((await invoke("snap-addon", "1", {})).body, "no addon loaded");
    assert.equal((await invoke("snap-http", "1", {})).body, "function");
    assert.equal((await invoke("snap-python", "1", {})).body, "python ran");
  });

  test("SnapStart is validated, and UpdateFunctionConfiguration turns it off for later versions", async () => {
    await k.deploy("snap-toggle", "nodejs20.x", "index.handler", { "index.js": "exports.handler = async () => 'ok';" });
    await rejectsAws(c.send(new UpdateFunctionConfigurationCommand({ FunctionName: "snap-toggle", SnapStart: { ApplyOn: "Always" as any } })), {
      name: "ValidationException",
      status: 400,
      message: /snapStart\.applyOn.*\[PublishedVersions, None\]/,
    });
    await c.send(new UpdateFunctionConfigurationCommand({ FunctionName: "snap-toggle", ...SNAP }));
    for (let i = 0; i < 100 && (await c.send(new GetFunctionConfigurationCommand({ FunctionName: "snap-toggle" }))).LastUpdateStatus !== "Successful"; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal((await c.send(new GetFunctionConfigurationCommand({ FunctionName: "snap-toggle" }))).SnapStart?.ApplyOn, "PublishedVersions");
    assert.equal((await publish("snap-toggle")).active.SnapStart?.OptimizationStatus, "On");
    await c.send(new UpdateFunctionConfigurationCommand({ FunctionName: "snap-toggle", SnapStart: { ApplyOn: "None" } }));
    for (let i = 0; i < 100 && (await c.send(new GetFunctionConfigurationCommand({ FunctionName: "snap-toggle" }))).LastUpdateStatus !== "Successful"; i++) await new Promise((r) => setTimeout(r, 50));
    const second = await publish("snap-toggle");
    assert.equal(second.published.Version, "2", "turning SnapStart off is a configuration change: a new version");
    assert.equal(second.published.State, "Active");
    assert.deepEqual(second.active.SnapStart, { ApplyOn: "None", OptimizationStatus: "Off" });
    assert.equal((await invoke("snap-toggle", "1", {})).body, "ok");
  });

  test("snapshot blobs live in the code store, linked from the snapshots; deleting the function frees them", async () => {
    const blobs = join(k.dataDir, "code", "blobs");
    const snapshots = join(k.dataDir, "snapshots");
    // A blob's links beyond the store's own name are its snapshots (identical blobs are stored once)
    // and any pooled launcher sandbox that placed it.
    const links = () => readdirSync(blobs).filter((n) => /^[0-9a-f]{64}$/.test(n)).map((n) => statSync(join(blobs, n)).nlink - 1);
    const snapshotBlobs = () => readdirSync(snapshots).filter((n) => n.endsWith(".blob")).length;
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const was = links();
    assert.ok(was.length >= 1, "the snapshots' blobs are in the code store");
    assert.ok(sum(was) >= snapshotBlobs(), "every snapshot blob is a link to a stored blob");
    await c.send(new DeleteFunctionCommand({ FunctionName: "snappy" }));
    for (let i = 0; i < 100 && snapshotBlobs() === sum(was); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(snapshotBlobs() < sum(was), "snappy's snapshots were removed");
    assert.ok(sum(links()) >= snapshotBlobs());
  });
});
