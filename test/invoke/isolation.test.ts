/**
 * Isolation, tried from inside real functions: what a function must not read, write or reach.
 * Each probe reports what it could do; every assertion fails if the jail is missing.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { InvokeCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import { json, startKiln, type TestKiln } from "../support/kiln.js";

let k: TestKiln;
let c: LambdaClient;

before(async () => {
  k = await startKiln();
  c = k.client();
});
after(async () => k.stop());

const call = async (name: string, payload: unknown = {}) => {
  const r = await c.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(payload)) }));
  return { error: r.FunctionError, body: json(r.Payload) as any };
};

const PROBE = `import os, socket, json

def attempt(fn):
    try:
        fn()
        return "allowed"
    except Exception as e:
        return "denied: " + type(e).__name__

def read(path):
    def go():
        if os.path.isdir(path):
            os.listdir(path)
        else:
            open(path, "rb").read(1)
    return attempt(go)

def handler(event, context):
    out = {}
    for p in event["paths"]:
        out["read " + p] = read(p)
    def write_task():
        open("/var/task/evil", "w").write("x")
    out["write /var/task"] = attempt(write_task)
    def write_tmp():
        open("/tmp/ok", "w").write("fine")
        assert open("/tmp/ok").read() == "fine"
    out["write /tmp"] = attempt(write_tmp)
    def connect(port):
        def go():
            s = socket.create_connection(("127.0.0.1", port), timeout=1)
            s.close()
        return go
    out["connect api"] = attempt(connect(event["apiPort"]))
    out["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    out["uid"] = os.getuid()
    out["env"] = sorted(os.environ.keys())
    return out
`;

test("a function cannot read the host, the data dir or other functions' code, cannot write its code, cannot reach the API", async () => {
  await k.deploy("victim", "nodejs20.x", "index.handler", { "index.js": "exports.handler = async () => 'secret code';" });
  await k.deploy("probe", "python3.11", "probe.handler", { "probe.py": PROBE });
  const unpacked = join(k.dataDir, "code", "unpacked");
  const victimDirs = readdirSync(unpacked).map((d) => join(unpacked, d));
  assert.ok(victimDirs.length >= 2, "both packages are unpacked on the host");
  const paths = ["/etc/shadow", "/root", "/home", "/work", k.dataDir, join(k.dataDir, "kiln.db"), join(k.dataDir, "credentials"), ...victimDirs, process.cwd()];
  const r = await call("probe", { paths, apiPort: k.port });
  assert.equal(r.error, undefined, JSON.stringify(r.body));
  for (const p of paths) assert.match(r.body[`read ${p}`], /^denied/, `reading ${p} must fail`);
  assert.match(r.body["write /var/task"], /^denied/);
  assert.equal(r.body["write /tmp"], "allowed");
  assert.match(r.body["connect api"], /^denied/, "the API port on the host's loopback is unreachable");
  assert.ok(r.body.pids.length <= 6, `only the sandbox's own processes are visible, saw ${r.body.pids.join(",")}`);
  assert.notEqual(r.body.uid, 0, "functions do not run as root");
  assert.ok(!r.body.env.includes("NODE_EXTRA_CA_CERTS"), "host variables do not leak");
  assert.ok(!r.body.env.includes("KILN_ROOT_SECRET_ACCESS_KEY"));
  assert.ok(r.body.env.includes("AWS_LAMBDA_FUNCTION_NAME"));
});

test("a function that exceeds its memory is killed with a clear error; the next invoke works", async () => {
  await k.deploy("hog", "python3.11", "hog.handler", {
    "hog.py": `def handler(event, context):
    if event.get("hog"):
        chunks = []
        for _ in range(64):
            chunks.append(bytearray(16 * 1024 * 1024))
    return "ok"
`,
  });
  const r = await call("hog", { hog: true });
  assert.equal(r.error, "Unhandled");
  assert.equal(r.body.errorType, "Runtime.OutOfMemory");
  assert.match(r.body.errorMessage, /Runtime exited with error: signal: killed/);
  assert.equal((await call("hog", {})).body, "ok");
});

test("two functions never share an environment, and tenants never share sandboxes", async () => {
  const code = { "index.mjs": "const id = Math.random().toString(36); export const handler = async () => id;" };
  await k.deploy("twin-a", "nodejs20.x", "index.handler", code);
  await k.deploy("twin-b", "nodejs20.x", "index.handler", code);
  const a = await call("twin-a");
  const b = await call("twin-b");
  assert.notEqual(a.body, b.body);
});
