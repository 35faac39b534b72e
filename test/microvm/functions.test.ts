/**
 * `kiln server --isolation microvm` end to end with the AWS SDK: nodejs20.x and python3.11
 * functions through the Runtime API inside QEMU micro-VMs (TCG here), the timeout (the runtime
 * restarts inside the guest, /tmp survives) and the memory limit (the guest's cgroup OOM-kills the
 * runtime: Runtime.OutOfMemory). Every cold start boots a VM: seconds under TCG.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { InvokeCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import { json, startKiln, type TestKiln } from "../support/kiln.js";

let k: TestKiln;
let c: LambdaClient;

const invoke = async (name: string, payload: unknown = {}) => {
  const t0 = performance.now();
  const r = await c.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(payload)), LogType: "Tail" }));
  return { ...r, ms: performance.now() - t0, body: json(r.Payload) as any, log: Buffer.from(r.LogResult ?? "", "base64").toString() };
};

before(async () => {
  k = await startKiln({ isolation: "microvm", poolMax: 0 });
  c = k.client();
});
after(async () => k.stop());

test("nodejs20.x in a micro-VM: cold boot to first response, then warm", async (t) => {
  await k.deploy("vm-node", "nodejs20.x", "index.handler", {
    "index.mjs": `import os from "node:os"; import fs from "node:fs";
      export const handler = async (event, context) => ({ echo: event, kernel: os.release(), uid: process.getuid(), cwd: process.cwd(),
        api: process.env.AWS_LAMBDA_RUNTIME_API, mem: context.memoryLimitInMB, hostFiles: ["/work", "/root/.cache"].filter((p) => fs.existsSync(p)) });`,
  });
  const cold = await invoke("vm-node", { a: 1 });
  assert.equal(cold.FunctionError, undefined, JSON.stringify(cold.body));
  assert.deepEqual(cold.body.echo, { a: 1 });
  assert.match(cold.body.kernel, /cloud-amd64/, "it ran under the guest kernel");
  assert.equal(cold.body.uid, 993);
  assert.equal(cold.body.cwd, "/var/task");
  assert.equal(cold.body.api, "127.0.0.1:9001");
  assert.deepEqual(cold.body.hostFiles, []);
  assert.match(cold.log, /Init Duration/);
  const warm = await invoke("vm-node", { a: 2 });
  assert.deepEqual(warm.body.echo, { a: 2 });
  t.diagnostic(`nodejs20.x boot to first response ${cold.ms.toFixed(0)} ms; warm invoke ${warm.ms.toFixed(0)} ms`);
});

test("python3.11 in a micro-VM", async (t) => {
  await k.deploy("vm-py", "python3.11", "app.handler", {
    "app.py": `import os, platform\ndef handler(event, context):\n    return {"echo": event, "kernel": platform.release(), "uid": os.getuid()}\n`,
  });
  const cold = await invoke("vm-py", { b: 2 });
  assert.equal(cold.FunctionError, undefined, JSON.stringify(cold.body));
  assert.deepEqual(cold.body, { echo: { b: 2 }, kernel: cold.body.kernel, uid: 993 });
  assert.match(cold.body.kernel, /cloud-amd64/);
  t.diagnostic(`python3.11 boot to first response ${cold.ms.toFixed(0)} ms`);
});

test("timeout: Sandbox.Timedout, the runtime restarts inside the guest, /tmp survives", async () => {
  await k.deploy(
    "vm-timeout",
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
    { Timeout: 3 },
  );
  assert.equal((await invoke("vm-timeout", { write: true })).body.marker, "kept");
  const t = await invoke("vm-timeout", { sleep: 20_000 });
  assert.equal(t.body.errorType, "Sandbox.Timedout");
  const next = await invoke("vm-timeout", {});
  assert.equal(next.body.invocations, 1, "memory was reset by the runtime restart");
  assert.equal(next.body.marker, "kept", "/tmp survived the restart");
});

test("memory: over MemorySize the guest kills the runtime: Runtime.OutOfMemory", async () => {
  await k.deploy("vm-oom", "python3.11", "app.handler", { "app.py": `def handler(event, context):\n    big = b"x" * (300 << 20)\n    return len(big)\n` }, { MemorySize: 128, Timeout: 60 });
  const r = await invoke("vm-oom", {});
  assert.equal(r.FunctionError, "Unhandled");
  assert.equal(r.body.errorType, "Runtime.OutOfMemory", JSON.stringify(r.body));
});
