/**
 * Invoke semantics end to end: real server, real jailed sandboxes, the AWS SDK as the client.
 * Runtimes (nodejs20.x ESM/CJS/callback, python3.11, provided.al2023), function errors, timeouts,
 * crashes, init failures, oversized responses, logs, warm reuse and parallelism.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { InvokeCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import { json, startKiln, type TestKiln } from "../support/kiln.js";

let k: TestKiln;
let c: LambdaClient;

const invoke = async (name: string, payload: unknown = {}, extra: Record<string, unknown> = {}) => {
  const r = await c.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(payload)), LogType: "Tail", ...extra }));
  return { ...r, body: json(r.Payload) as any, log: Buffer.from(r.LogResult ?? "", "base64").toString() };
};

before(async () => {
  k = await startKiln();
  c = k.client();
});
after(async () => k.stop());

describe("nodejs20.x", () => {
  test("ES module handler: result, context, console format, REPORT with Init Duration only when cold", async () => {
    await k.deploy("node-esm", "nodejs20.x", "index.handler", {
      "index.mjs": `export const handler = async (event, context) => {
        console.log("got", JSON.stringify(event));
        return { echo: event, requestId: context.awsRequestId, fn: context.functionName, mem: context.memoryLimitInMB,
                 remaining: context.getRemainingTimeInMillis(), arn: context.invokedFunctionArn, cwd: process.cwd(),
                 region: process.env.AWS_REGION, stream: context.logStreamName };
      };`,
    });
    const cold = await invoke("node-esm", { a: 1 });
    assert.equal(cold.StatusCode, 200);
    assert.equal(cold.FunctionError, undefined);
    assert.equal(cold.ExecutedVersion, "$LATEST");
    assert.deepEqual(cold.body.echo, { a: 1 });
    assert.equal(cold.body.fn, "node-esm");
    assert.equal(cold.body.mem, "128");
    assert.equal(cold.body.cwd, "/var/task");
    assert.equal(cold.body.region, "us-east-1");
    assert.match(cold.body.arn, /^arn:aws:lambda:us-east-1:000000000000:function:node-esm$/);
    assert.ok(cold.body.remaining > 0 && cold.body.remaining <= 3000);
    const rid = cold.body.requestId;
    assert.match(cold.log, new RegExp(`^START RequestId: ${rid} Version: \\$LATEST\\n`));
    assert.match(cold.log, new RegExp(`\\d{4}-\\d\\d-\\d\\dT[^\\t]+Z\\t${rid}\\tINFO\\tgot {"a":1}\\n`));
    assert.match(cold.log, new RegExp(`END RequestId: ${rid}\\nREPORT RequestId: ${rid}\\tDuration: [\\d.]+ ms\\tBilled Duration: \\d+ ms\\tMemory Size: 128 MB\\tMax Memory Used: \\d+ MB\\tInit Duration: [\\d.]+ ms\\t\\n$`));
    const warm = await invoke("node-esm", { a: 2 });
    assert.equal(warm.body.stream, cold.body.stream, "warm invoke reuses the environment");
    assert.doesNotMatch(warm.log, /Init Duration/);
  });

  test("CommonJS and callback handlers, nested handler paths", async () => {
    await k.deploy("node-cjs", "nodejs20.x", "lib/app.handler", {
      "lib/app.js": `exports.handler = (event, context, callback) => { callback(null, { cjs: true, n: event.n * 2 }); };`,
    });
    assert.deepEqual((await invoke("node-cjs", { n: 21 })).body, { cjs: true, n: 42 });
  });

  test("a thrown error comes back as Unhandled with Lambda's Node error shape", async () => {
    await k.deploy("node-throw", "nodejs20.x", "index.handler", {
      "index.js": `exports.handler = async () => { class ValidationError extends Error { constructor(m) { super(m); this.name = "ValidationError"; } } throw new ValidationError("bad input"); };`,
    });
    const r = await invoke("node-throw");
    assert.equal(r.StatusCode, 200);
    assert.equal(r.FunctionError, "Unhandled");
    assert.equal(r.body.errorType, "ValidationError");
    assert.equal(r.body.errorMessage, "bad input");
    assert.ok(Array.isArray(r.body.trace));
    const again = await invoke("node-throw");
    assert.equal(again.FunctionError, "Unhandled", "the environment survives a function error");
  });

  test("init failures: missing module and missing handler", async () => {
    await k.deploy("node-nomod", "nodejs20.x", "missing.handler", { "index.js": "exports.handler = async () => 1;" });
    const r1 = await invoke("node-nomod");
    assert.equal(r1.FunctionError, "Unhandled");
    assert.equal(r1.body.errorType, "Runtime.ImportModuleError");
    await k.deploy("node-nohandler", "nodejs20.x", "index.nope", { "index.js": "exports.handler = async () => 1;" });
    const r2 = await invoke("node-nohandler");
    assert.equal(r2.body.errorType, "Runtime.HandlerNotFound");
  });

  test("timeout: Sandbox.Timedout, the runtime restarts, /tmp survives", async () => {
    await k.deploy(
      "node-timeout",
      "nodejs20.x",
      "index.handler",
      {
        "index.mjs": `import { writeFileSync, readFileSync, existsSync } from "node:fs";
        let invocations = 0;
        export const handler = async (event) => {
          invocations++;
          if (event.write) writeFileSync("/tmp/marker", "kept");
          if (event.sleep) await new Promise((r) => setTimeout(r, event.sleep));
          return { invocations, marker: existsSync("/tmp/marker") ? readFileSync("/tmp/marker", "utf8") : null };
        };`,
      },
      { Timeout: 1 },
    );
    assert.equal((await invoke("node-timeout", { write: true })).body.marker, "kept");
    const t = await invoke("node-timeout", { sleep: 5000 });
    assert.equal(t.FunctionError, "Unhandled");
    assert.equal(t.body.errorType, "Sandbox.Timedout");
    assert.match(t.body.errorMessage, /^RequestId: [0-9a-f-]+ Error: Task timed out after 1\.00 seconds$/);
    assert.match(t.log, /Task timed out after 1\.00 seconds/);
    const next = await invoke("node-timeout", {});
    assert.equal(next.body.invocations, 1, "memory was reset by the runtime restart");
    assert.equal(next.body.marker, "kept", "/tmp survived the restart");
  });

  test("a crashing runtime gives Runtime.ExitError and the next invoke works", async () => {
    await k.deploy("node-exit", "nodejs20.x", "index.handler", {
      "index.js": `exports.handler = async (e) => { if (e.exit) process.exit(3); return "alive"; };`,
    });
    const r = await invoke("node-exit", { exit: true });
    assert.equal(r.FunctionError, "Unhandled");
    assert.equal(r.body.errorType, "Runtime.ExitError");
    assert.match(r.body.errorMessage, /Runtime exited with error: exit status 3/);
    assert.equal((await invoke("node-exit", {})).body, "alive");
  });

  test("a response over 6 MB is Function.ResponseSizeTooLarge", async () => {
    await k.deploy("node-big", "nodejs20.x", "index.handler", { "index.js": `exports.handler = async () => "x".repeat(7 * 1024 * 1024);` });
    const r = await invoke("node-big");
    assert.equal(r.FunctionError, "Unhandled");
    assert.equal(r.body.errorType, "Function.ResponseSizeTooLarge");
  });

  test("concurrent invocations run in parallel in separate environments, never serialized", async () => {
    await k.deploy("node-par", "nodejs20.x", "index.handler", {
      "index.mjs": `const id = Math.random().toString(36).slice(2);
        let busy = false;
        export const handler = async () => { if (busy) throw new Error("two invocations in one environment"); busy = true;
          await new Promise((r) => setTimeout(r, 400)); busy = false; return id; };`,
    });
    const results = await Promise.all(Array.from({ length: 6 }, () => invoke("node-par")));
    for (const r of results) assert.equal(r.FunctionError, undefined);
    assert.equal(new Set(results.map((r) => r.body)).size, 6, "six overlapping invocations used six environments");
    const sequential = [await invoke("node-par"), await invoke("node-par")];
    assert.ok(results.some((r) => r.body === sequential[0]!.body), "warm environments are reused afterwards");
  });
});

describe("python3.11", () => {
  test("result, context, logging, and Lambda's Python error shape", async () => {
    await k.deploy("py", "python3.11", "app.handler", {
      "app.py": `import os, logging
logger = logging.getLogger()
logger.setLevel(logging.INFO)
def handler(event, context):
    print("printed", event.get("x"))
    if event.get("fail"):
        raise ValueError("python says no")
    return {"x": event.get("x"), "id": context.aws_request_id, "fn": context.function_name, "task": os.environ["LAMBDA_TASK_ROOT"]}
`,
    });
    const ok = await invoke("py", { x: 5 });
    assert.equal(ok.FunctionError, undefined, JSON.stringify(ok.body));
    assert.equal(ok.body.x, 5);
    assert.equal(ok.body.fn, "py");
    assert.equal(ok.body.task, "/var/task");
    assert.match(ok.log, /printed 5/);
    const bad = await invoke("py", { fail: true });
    assert.equal(bad.FunctionError, "Unhandled");
    assert.equal(bad.body.errorType, "ValueError");
    assert.equal(bad.body.errorMessage, "python says no");
    assert.ok(Array.isArray(bad.body.stackTrace));
    assert.equal(typeof bad.body.requestId, "string");
  });
});

describe("provided.al2023", () => {
  test("a shell bootstrap speaks the Runtime API itself", async () => {
    const bootstrap = `#!/bin/sh
set -eu
while true; do
  HEADERS=$(mktemp)
  EVENT=$(curl -sS -D "$HEADERS" "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/next")
  ID=$(grep -i Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  echo "custom runtime got $EVENT"
  curl -sS -X POST "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/$ID/response" -d "{\\"custom\\":true,\\"event\\":$EVENT}" >/dev/null
done
`;
    await k.deploy("custom", "provided.al2023", "unused", { bootstrap: { data: bootstrap, mode: 0o755 } });
    const r = await invoke("custom", { hello: "world" });
    assert.equal(r.FunctionError, undefined, JSON.stringify(r.body));
    assert.deepEqual(r.body, { custom: true, event: { hello: "world" } });
    assert.match(r.log, /custom runtime got {"hello":"world"}/);
  });
});

describe("invoke types", () => {
  test("DryRun answers 204 without running; an Event payload over the 1 MB async limit is refused before queueing", async () => {
    await k.deploy("dry", "nodejs20.x", "index.handler", { "index.js": "exports.handler = async () => { throw new Error('must not run'); };" });
    const r = await c.send(new InvokeCommand({ FunctionName: "dry", InvocationType: "DryRun" }));
    assert.equal(r.StatusCode, 204);
    await assert.rejects(c.send(new InvokeCommand({ FunctionName: "dry", InvocationType: "Event", Payload: Buffer.from(`"${"a".repeat(1_048_576)}"`) })), /too large for the Event invocation type/);
  });
});
