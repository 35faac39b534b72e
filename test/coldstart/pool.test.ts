/**
 * Pre-initialized sandboxes end to end: a real server, real jailed pools, the AWS SDK as client.
 * A cold start from the pool must be indistinguishable, from inside the function, from a fresh
 * spawn (environment, cwd, ids, limits, /tmp, /opt, module paths), serve the right function, and
 * never let a sandbox, its /tmp or its code reach a second function or account.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { GetFunctionConfigurationCommand, InvokeCommand, UpdateFunctionConfigurationCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import { zipFiles } from "../../src/artifacts/index.js";
import { json, startKiln, ROLE, type TestKiln } from "../support/kiln.js";
import { createAccount, keysOf } from "../support/signed-fetch.js";
import { CreateFunctionCommand, waitUntilFunctionActiveV2 } from "@aws-sdk/client-lambda";

let k: TestKiln;
let c: LambdaClient;

before(async () => {
  k = await startKiln({ poolMin: 1, poolMax: 4 });
  c = k.client();
  await k.kiln.worker.poolFilled();
});
after(async () => k.stop());

const invoke = async (client: LambdaClient, name: string, payload: unknown = {}) => {
  const r = await client.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(payload)), LogType: "Tail" }));
  assert.equal(r.FunctionError, undefined, Buffer.from(r.Payload ?? []).toString());
  return { body: json(r.Payload) as any, log: Buffer.from(r.LogResult ?? "", "base64").toString() };
};

/** The execution environment id is the tail of the log stream name. */
const environmentOf = (stream: string): string => stream.slice(stream.indexOf("]") + 1);
const hosted = (envId: string) => {
  const e = k.kiln.worker.environments().find((x) => x.id === envId);
  assert.ok(e, `environment ${envId} is hosted`);
  return e;
};

/** A new revision drains the function's environments: the next invoke is a cold start. */
async function recycle(name: string): Promise<void> {
  await c.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Description: `rev ${Math.random()}` }));
  for (let i = 0; i < 200; i++) {
    if ((await c.send(new GetFunctionConfigurationCommand({ FunctionName: name }))).LastUpdateStatus === "Successful") return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("the update did not complete");
}

/** Cgroup limits the host set for a sandbox (v1 layout on these machines). */
function hostLimits(sandboxId: string): { memory?: string; pids?: string } {
  const read = (p: string) => (existsSync(p) ? readFileSync(p, "utf8").trim() : undefined);
  const out: { memory?: string; pids?: string } = {};
  const memory = read(`/sys/fs/cgroup/memory/kiln/${sandboxId}/memory.limit_in_bytes`) ?? read(`/sys/fs/cgroup/kiln/${sandboxId}/memory.max`);
  const pids = read(`/sys/fs/cgroup/pids/kiln/${sandboxId}/pids.max`) ?? read(`/sys/fs/cgroup/kiln/${sandboxId}/pids.max`);
  if (memory !== undefined) out.memory = memory;
  if (pids !== undefined) out.pids = pids;
  return out;
}

const NODE_PROBE = `import { readFileSync, readdirSync, statSync, readlinkSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import v8 from "node:v8";
const require = createRequire(import.meta.url);
const st = (p) => { const s = statSync(p); return { mode: s.mode.toString(8), uid: s.uid, gid: s.gid }; };
const loadedAt = { cwd: process.cwd(), stream: process.env.AWS_LAMBDA_LOG_STREAM_NAME };
export const handler = async () => ({
  loadedAt,
  env: { ...process.env },
  cwd: process.cwd(),
  ids: [process.getuid(), process.getgid(), process.getegid(), process.getgroups()],
  argv: process.argv,
  execArgv: process.execArgv,
  heapLimit: v8.getHeapStatistics().heap_size_limit,
  limits: readFileSync("/proc/self/limits", "utf8"),
  status: readFileSync("/proc/self/status", "utf8").split("\\n").filter((l) => /^(Umask|Uid|Gid|Groups|NoNewPrivs|Seccomp|Cap)/.test(l)),
  tmp: readdirSync("/tmp"),
  task: readdirSync("/var/task").sort(),
  opt: readdirSync("/opt"),
  stats: { opt: st("/opt"), task: st("/var/task"), tmp: st("/tmp") },
  hostname: os.hostname(),
  homedir: os.homedir(),
  tmpdir: os.tmpdir(),
  priority: os.getPriority(),
  tz: Intl.DateTimeFormat().resolvedOptions().timeZone,
  locale: Intl.DateTimeFormat().resolvedOptions().locale,
  pid: process.pid,
  globalPaths: require("node:module").globalPaths,
  kilnHooks: typeof globalThis.kiln?.registerAfterRestore,
  fds: readdirSync("/proc/self/fd").map((f) => { try { return readlinkSync("/proc/self/fd/" + f).replace(/\\d+/g, "N"); } catch { return "gone"; } }).sort(),
});
`;

const PYTHON_PROBE = `import json, locale, os, sys, time
LOADED_AT = {"cwd": os.getcwd(), "stream": os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")}
def handler(event, context):
    status = [l for l in open("/proc/self/status").read().split("\\n") if l.split(":")[0] in ("Umask", "Uid", "Gid", "Groups", "NoNewPrivs", "Seccomp", "CapEff", "CapPrm", "CapBnd")]
    return {
        "loadedAt": LOADED_AT,
        "env": dict(os.environ),
        "cwd": os.getcwd(),
        "ids": [os.getuid(), os.getgid(), os.getgroups()],
        "argv": sys.argv, "orig_argv": sys.orig_argv,
        "path": sys.path,
        "flags": list(sys.flags),
        "limits": open("/proc/self/limits").read(),
        "status": status,
        "tmp": os.listdir("/tmp"),
        "task": sorted(os.listdir("/var/task")),
        "opt": os.listdir("/opt"),
        "tzname": list(time.tzname),
        "encoding": [sys.getfilesystemencoding(), sys.stdout.encoding, locale.getpreferredencoding(False)],
        "priority": os.getpriority(os.PRIO_PROCESS, 0),
        "pid": os.getpid(),
    }
`;

describe("cold starts from the pool", () => {
  for (const [runtime, handler, files] of [
    ["nodejs20.x", "index.handler", { "index.mjs": NODE_PROBE, "data/extra.txt": "x" }],
    ["python3.11", "probe.handler", { "probe.py": PYTHON_PROBE, "data/extra.txt": "x" }],
  ] as const) {
    test(`${runtime}: a pooled cold start serves the right function with exactly a fresh spawn's environment and limits`, async () => {
      const name = `probe-${runtime.replace(/\W/g, "")}`;
      // 256 MB: the pool keeps its floor at 128 MB, so the first cold start is a miss (a fresh
      // spawn); it creates demand, the pool boots a 256 MB sandbox, and the next one is a hit.
      await k.deploy(name, runtime, handler, files, { MemorySize: 256, Environment: { Variables: { GREETING: "hello pool", EMPTY: "" } } });
      const fresh = await invoke(c, name);
      const freshEnv = hosted(environmentOf(fresh.body.env.AWS_LAMBDA_LOG_STREAM_NAME));
      assert.equal(freshEnv.pooled, false, "the first 256 MB cold start spawns a fresh sandbox");
      const freshLimits = hostLimits(freshEnv.sandboxId);
      await recycle(name);
      await k.kiln.worker.poolFilled();
      assert.ok(k.kiln.worker.poolStats()!.classes.some((x) => x.kind === runtime && x.memoryMB === 256 && x.idle >= 1), "the miss made the pool boot a 256 MB sandbox");
      const pooled = await invoke(c, name);
      const pooledEnv = hosted(environmentOf(pooled.body.env.AWS_LAMBDA_LOG_STREAM_NAME));
      assert.equal(pooledEnv.pooled, true, "the second cold start came from the pool");
      assert.match(pooled.log, /Init Duration: [\d.]+ ms/, "a pooled cold start reports its own init");

      // The right function, loaded after specialization with the function's environment.
      assert.equal(pooled.body.env.GREETING, "hello pool");
      assert.equal(pooled.body.env.AWS_LAMBDA_FUNCTION_NAME, name);
      assert.equal(pooled.body.loadedAt.cwd, "/var/task");
      assert.equal(pooled.body.loadedAt.stream, pooled.body.env.AWS_LAMBDA_LOG_STREAM_NAME, "init already saw the function's own log stream");
      assert.equal(pooled.body.env._KILN_AWAIT_SPECIALIZATION, undefined, "nothing of the boot environment is left");

      // Everything the function can observe matches the fresh spawn, but the stream (it names the environment).
      const strip = (b: any) => ({ ...b, env: { ...b.env, AWS_LAMBDA_LOG_STREAM_NAME: "<stream>", _X_AMZN_TRACE_ID: "<per invocation>" }, loadedAt: { ...b.loadedAt, stream: "<stream>" } });
      assert.deepEqual(strip(pooled.body), strip(fresh.body));
      assert.deepEqual(pooled.body.task, ["data", runtime === "nodejs20.x" ? "index.mjs" : "probe.py"].sort());
      assert.deepEqual(pooled.body.tmp, [], "/tmp is empty");

      // Limits set by the host: the same memory and process limits as a fresh spawn.
      const limits = hostLimits(pooledEnv.sandboxId);
      assert.deepEqual(limits, freshLimits);
      if (limits.memory !== undefined) assert.equal(limits.memory, String(256 * 1024 * 1024));
    });
  }

  test("a timeout restarts a pooled sandbox's runtime as the function, keeping /tmp", async () => {
    await k.deploy(
      "pooled-timeout",
      "nodejs20.x",
      "index.handler",
      {
        "index.mjs": `import { writeFileSync, readFileSync, existsSync } from "node:fs";
        let n = 0;
        export const handler = async (e) => { n++; if (e.write) writeFileSync("/tmp/m", "kept"); if (e.sleep) await new Promise((r) => setTimeout(r, e.sleep));
          return { n, m: existsSync("/tmp/m") ? readFileSync("/tmp/m", "utf8") : null, fn: process.env.AWS_LAMBDA_FUNCTION_NAME, boot: process.env._KILN_AWAIT_SPECIALIZATION ?? null }; };`,
      },
      { Timeout: 1, MemorySize: 256 }, // the class the probes above made busiest: the pool keeps it
    );
    await k.kiln.worker.poolFilled();
    const first = await invoke(c, "pooled-timeout", { write: true });
    const envs = k.kiln.worker.environments().filter((e) => e.configKey.endsWith("/pooled-timeout"));
    assert.ok(envs.length === 1 && envs[0]!.pooled, "served from the pool");
    assert.equal(first.body.m, "kept");
    const t = await c.send(new InvokeCommand({ FunctionName: "pooled-timeout", Payload: Buffer.from('{"sleep":3000}') }));
    assert.equal((json(t.Payload) as any).errorType, "Sandbox.Timedout");
    const after = await invoke(c, "pooled-timeout");
    assert.deepEqual(after.body, { n: 1, m: "kept", fn: "pooled-timeout", boot: null }, "the restarted runtime is a fresh start of the function, /tmp survived");
  });

  test("functions whose variables are read at process start get a fresh spawn, never a pooled sandbox", async () => {
    await k.kiln.worker.poolFilled();
    const hits = k.kiln.worker.poolStats()!.hits;
    await k.deploy("node-options", "nodejs20.x", "index.handler", { "index.js": "exports.handler = async () => ({ opts: process.env.NODE_OPTIONS, deprecation: process.noDeprecation });" }, {
      Environment: { Variables: { NODE_OPTIONS: "--no-deprecation" } },
    });
    const r = await invoke(c, "node-options");
    assert.deepEqual(r.body, { opts: "--no-deprecation", deprecation: true }, "NODE_OPTIONS took effect, as only a fresh start can give it");
    assert.equal(k.kiln.worker.environments().find((e) => e.configKey.endsWith("/node-options"))?.pooled, false);
    assert.equal(k.kiln.worker.poolStats()!.hits, hits);
  });
});

describe("pooled sandboxes and tenants", () => {
  test("two accounts' functions never share a sandbox, and each sees only its own code and an empty /tmp", async () => {
    const alice = await createAccount(k.url, "alice");
    const bob = await createAccount(k.url, "bob");
    const a = k.client(keysOf(alice));
    const b = k.client(keysOf(bob));
    const SPY = `import { readdirSync, readFileSync, writeFileSync } from "node:fs";
      export const handler = async (e) => {
        const tmpBefore = readdirSync("/tmp");
        writeFileSync("/tmp/owner", process.env.OWNER);
        const tries = {};
        for (const p of e.paths ?? []) { try { readdirSync(p); tries[p] = "allowed"; } catch (err) { tries[p] = "denied: " + err.code; } }
        return { owner: process.env.OWNER, tmpBefore, task: readdirSync("/var/task").sort(), secret: readFileSync("/var/task/secret.txt", "utf8"), tries };
      };`;
    const deployAs = async (client: LambdaClient, owner: string) => {
      await client.send(
        new CreateFunctionCommand({
          FunctionName: "spy",
          Runtime: "nodejs20.x",
          Handler: "index.handler",
          Role: ROLE,
          Environment: { Variables: { OWNER: owner } },
          Code: { ZipFile: await zipFiles({ "index.mjs": SPY, "secret.txt": `${owner}'s secret`, [`only-${owner}.txt`]: owner }) },
        }),
      );
      await waitUntilFunctionActiveV2({ client, maxWaitTime: 30, minDelay: 1 }, { FunctionName: "spy" });
    };
    await deployAs(a, "alice");
    await deployAs(b, "bob");
    const sandboxes = new Map<string, string>(); // sandbox id -> account
    const hitsBefore = k.kiln.worker.poolStats()!.hits;
    for (let round = 0; round < 3; round++) {
      await k.kiln.worker.poolFilled();
      const ra = await invoke(a, "spy");
      await k.kiln.worker.poolFilled();
      const hostPaths = [join(k.dataDir, "sandboxes"), join(k.dataDir, "code", "unpacked"), ...readdirSync(join(k.dataDir, "sandboxes")).map((d) => join(k.dataDir, "sandboxes", d, "task"))];
      const rb = await invoke(b, "spy", { paths: hostPaths });
      assert.equal(ra.body.owner, "alice");
      assert.equal(rb.body.owner, "bob");
      assert.equal(ra.body.secret, "alice's secret");
      assert.equal(rb.body.secret, "bob's secret");
      assert.deepEqual(ra.body.task, ["index.mjs", "only-alice.txt", "secret.txt"]);
      assert.deepEqual(rb.body.task, ["index.mjs", "only-bob.txt", "secret.txt"]);
      for (const [p, what] of Object.entries(rb.body.tries as Record<string, string>)) assert.match(what, /^denied/, `bob read ${p}`);
      if (round === 0) {
        assert.deepEqual(ra.body.tmpBefore, []);
        assert.deepEqual(rb.body.tmpBefore, []);
      }
      for (const e of k.kiln.worker.environments()) {
        if (!e.configKey.endsWith("/spy")) continue;
        const owner = e.accountId;
        const seen = sandboxes.get(e.sandboxId);
        assert.ok(seen === undefined || seen === owner, `sandbox ${e.sandboxId} served ${seen} and ${owner}`);
        sandboxes.set(e.sandboxId, owner);
      }
      // Both functions' environments go; the next round's cold starts need new sandboxes.
      await Promise.all([a, b].map((cl) => cl.send(new UpdateFunctionConfigurationCommand({ FunctionName: "spy", Description: `round ${round}` }))));
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(k.kiln.worker.poolStats()!.hits - hitsBefore >= 4, "the pool served these cold starts");
    assert.ok(sandboxes.size >= 6, `every cold start had a sandbox of its own (${sandboxes.size})`);
    // Idle pooled sandboxes hold nothing of anyone: their task and opt directories are empty.
    const idle = readdirSync(join(k.dataDir, "sandboxes")).filter((d) => d.startsWith("pool-") && !k.kiln.worker.environments().some((e) => e.sandboxId === d));
    assert.ok(idle.length >= 1);
    for (const d of idle) {
      for (const sub of ["task", "opt", "tmp"]) {
        const p = join(k.dataDir, "sandboxes", d, sub);
        if (existsSync(p)) assert.deepEqual(readdirSync(p), [], `${d}/${sub} of an idle pooled sandbox is empty`);
      }
    }
  });
});
