/**
 * Conformance suite for SandboxDriver implementations: every driver (process, none, later microvm)
 * registers these tests with its factory. Real processes, a stand-in Runtime API on a unix socket,
 * and bootstraps written as small shell/Python/Node scripts, so it does not depend on the real
 * runtimes in src/runtimes (the suite brings its own runtimes dir).
 */
import { after, before, describe, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import type { SandboxDriver } from "./contract.js";
import { isSandboxError } from "./errors.js";
import { RecordingEvents, Workspace, alive, lambdaEnv, nodeBootstrap, pythonBootstrap, waitFor } from "./testkit.js";

export interface SandboxSuiteOptions {
  /** Environment variables the driver documents as added or rewritten (isolation "none"). */
  envRewrites?: readonly string[];
  /**
   * restartRuntime() restarts the runtime inside the same sandbox process, so `pid` (the
   * sandbox's outermost process, e.g. a micro-VM's VMM) stays the same (microvm).
   */
  restartKeepsPid?: boolean;
  /** How long to wait for output, exits and requests (default 10 s; slow drivers such as micro-VMs under TCG need more). */
  waitMs?: number;
}

export type DriverFactory = (ctx: { runtimesDir: string }) => SandboxDriver;

const NODE_RUNTIME = `import http from "node:http";
import fs from "node:fs";
if (process.env.POOL_PROBE) {
  // A stand-in pooled runtime: waits until its code appears, reports what it sees, exits.
  const task = process.env.LAMBDA_TASK_ROOT;
  while (!fs.existsSync(task + "/ready")) await new Promise((r) => setTimeout(r, 5));
  console.log("POOL=" + JSON.stringify({ env: process.env, task: fs.readdirSync(task).sort(), sub: fs.readdirSync(task + "/sub"), cwd: process.cwd(), opt: fs.existsSync("/opt") ? fs.readdirSync("/opt").sort() : null }));
  process.exit(0);
}
const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
console.log("runtime " + JSON.stringify({ argv1: process.argv[1], execArgv: process.execArgv }));
http.get({ host, port, path: "/2018-06-01/runtime/invocation/next" }, (res) => {
  let body = "";
  res.on("data", (c) => (body += c));
  res.on("end", () => { console.log("event " + body); process.exit(0); });
});
`;

const PYTHON_RUNTIME = `import json, os, sys, urllib.request
print("runtime " + json.dumps({"argv": sys.orig_argv}))
with urllib.request.urlopen("http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/next") as r:
    print("event " + r.read().decode())
`;

/** A bootstrap that holds still until killed, after asking for the next event. */
const WAIT_FOR_KILL = pythonBootstrap(`urllib.request.urlopen(api + "/invocation/next").read()\nprint("waiting", flush=True)\nimport time\ntime.sleep(3600)`);

export function sandboxDriverSuite(name: string, makeDriver: DriverFactory, options: SandboxSuiteOptions = {}): void {
  const W = options.waitMs ?? 10_000;
  describe(`sandbox driver ${name}`, () => {
    let ws: Workspace;
    let driver: SandboxDriver;
    const cleanups: Array<() => Promise<void>> = [];

    before(async () => {
      process.env.KILN_SANDBOX_TEST_CANARY = "host-secret";
      ws = await Workspace.create();
      await ws.file("runtimes/nodejs/bootstrap.mjs", NODE_RUNTIME);
      await ws.file("runtimes/python/bootstrap.py", PYTHON_RUNTIME);
      driver = makeDriver({ runtimesDir: `${ws.root}/runtimes` });
    });
    after(async () => {
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
      await ws.remove();
    });

    /** Creates a sandbox whose destroy and API shutdown run after the suite. */
    async function start(opts: Parameters<Workspace["sandbox"]>[0]) {
      const fixture = await ws.sandbox(opts);
      const t0 = performance.now();
      const sandbox = await driver.create(fixture.spec, fixture.events);
      cleanups.push(() => fixture.api.close(), () => sandbox.destroy());
      return { ...fixture, sandbox, t0 };
    }

    test("capabilities match the driver", () => {
      const caps = driver.capabilities();
      assert.equal(caps.isolation === "none", driver.name === "none");
      if (driver.name === "process") assert.equal(caps.isolation, "namespaces");
    });

    test("runs the bootstrap; stdout and stderr reach onOutput; a clean exit is reported", async () => {
      const { sandbox, events } = await start({ bootstrap: "#!/bin/sh\necho to-stdout\necho to-stderr >&2\n" });
      assert.equal(typeof sandbox.pid, "number");
      assert.deepEqual(await events.waitForExit(W), { code: 0, signal: null, oomKilled: false });
      assert.match(events.output, /to-stdout/);
      assert.match(events.output, /to-stderr/);
    });

    test("exit codes and signals are reported as such", async () => {
      const a = await start({ bootstrap: "#!/bin/sh\nexit 3\n" });
      const b = await start({ bootstrap: "#!/bin/sh\nkill -KILL $$\n" });
      assert.deepEqual(await a.events.waitForExit(W), { code: 3, signal: null, oomKilled: false });
      assert.deepEqual(await b.events.waitForExit(W), { code: null, signal: "SIGKILL", oomKilled: false });
    });

    test("the environment is spec.env and nothing from the host", async () => {
      const env = lambdaEnv({ ONLY_IN_SPEC: "yes" });
      const { events } = await start({ env, bootstrap: nodeBootstrap(`console.log("ENV=" + JSON.stringify(process.env))`) });
      await events.waitForExit(W);
      const got = JSON.parse(/ENV=(.*)/.exec(events.output)?.[1] ?? "null") as Record<string, string>;
      const rewrites = new Set(options.envRewrites ?? []);
      const strip = (e: Record<string, string>) => Object.fromEntries(Object.entries(e).filter(([k]) => !rewrites.has(k)));
      assert.deepEqual(strip(got), strip(env));
      assert.ok(process.env.KILN_SANDBOX_TEST_CANARY !== undefined && got.KILN_SANDBOX_TEST_CANARY === undefined);
      assert.equal(got.NODE_EXTRA_CA_CERTS, undefined);
      assert.equal(got.HOME, undefined);
      assert.match(got.AWS_LAMBDA_RUNTIME_API ?? "", /^127\.0\.0\.1:\d+$/);
    });

    test("the working directory is the code dir", async () => {
      const { events } = await start({ bootstrap: nodeBootstrap(`console.log("HAS_BOOTSTRAP=" + require("fs").existsSync("bootstrap"))`) });
      await events.waitForExit(W);
      assert.match(events.output, /HAS_BOOTSTRAP=true/);
    });

    test("the Runtime API answers at AWS_LAMBDA_RUNTIME_API from the first attempt", async (t: TestContext) => {
      const { api, events, t0 } = await start({
        bootstrap: pythonBootstrap(`ev = urllib.request.urlopen(api + "/invocation/next").read()
urllib.request.urlopen(urllib.request.Request(api + "/invocation/req-1/response", data=b"echo:" + ev, method="POST")).read()`),
      });
      assert.deepEqual(await events.waitForExit(W), { code: 0, signal: null, oomKilled: false });
      assert.deepEqual(
        api.requests.map((r) => [r.method, r.url, r.body]),
        [
          ["GET", "/2018-06-01/runtime/invocation/next", ""],
          ["POST", "/2018-06-01/runtime/invocation/req-1/response", 'echo:{"hello":"sandbox"}'],
        ],
      );
      t.diagnostic(`create() to first Runtime API connection (python3.11 bootstrap): ${(api.connections[0]! - t0).toFixed(1)} ms`);
    });

    test("all output is delivered before onExit", async () => {
      const { events } = await start({ bootstrap: pythonBootstrap(`for i in range(20000): print("line %06d" % i)`) });
      await events.waitForExit(W);
      assert.deepEqual(events.outputLengthAtExit, [20000 * 12]);
    });

    test("restartRuntime() starts the runtime again and reports no exit", async () => {
      const { sandbox, api, events } = await start({ bootstrap: WAIT_FOR_KILL });
      await waitFor("the first runtime's request", () => api.requests.length === 1, W);
      const firstPid = sandbox.pid;
      await sandbox.restartRuntime();
      await waitFor("the second runtime's request", () => api.requests.length === 2, W);
      if (options.restartKeepsPid) assert.equal(sandbox.pid, firstPid);
      else {
        assert.notEqual(sandbox.pid, firstPid);
        assert.equal(firstPid !== undefined && alive(firstPid), false);
      }
      assert.deepEqual(events.exits, []);
    });

    test("restartRuntime() after a crash runs it again, and the next crash is reported too", async () => {
      const { sandbox, events } = await start({ bootstrap: "#!/bin/sh\necho run\nexit 1\n" });
      await events.waitForExit(W);
      await sandbox.restartRuntime();
      await waitFor("a second reported exit", () => events.exits.length === 2, W);
      assert.equal(events.output.match(/run/g)?.length, 2);
    });

    test("concurrent restartRuntime() calls share one restart", async () => {
      const { sandbox, api } = await start({ bootstrap: WAIT_FOR_KILL });
      await waitFor("the first request", () => api.requests.length === 1, W);
      await Promise.all([sandbox.restartRuntime(), sandbox.restartRuntime()]);
      await waitFor("the second request", () => api.requests.length === 2, W);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(api.requests.length, 2);
    });

    test("destroy() kills the whole tree, reports nothing, and refuses restarts", async () => {
      // The runtime forks a child that calls the API every 20 ms: if any process survived, calls would go on.
      const { sandbox, api, events } = await start({
        bootstrap: pythonBootstrap(`import time
if os.fork() == 0:
    os.setsid()
    while True:
        urllib.request.urlopen(api + "/invocation/next").read()
        time.sleep(0.02)
time.sleep(3600)`),
      });
      await waitFor("heartbeats", () => api.requests.length >= 3, W);
      const pid = sandbox.pid!;
      await sandbox.destroy();
      assert.equal(alive(pid), false);
      const count = api.requests.length;
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(api.requests.length, count, "a process of the sandbox outlived destroy()");
      assert.deepEqual(events.exits, []);
      await assert.rejects(sandbox.restartRuntime(), (e) => isSandboxError(e, "destroyed"));
      await sandbox.destroy();
    });

    test("stats() report the peak memory, which restartRuntime() resets", async () => {
      const { sandbox, events } = await start({
        memoryMB: 256,
        bootstrap: pythonBootstrap(`import tempfile, time
marker = os.path.join(tempfile.gettempdir(), "allocated")
if not os.path.exists(marker):
    open(marker, "w").close()
    big = b"x" * (96 << 20)
print("ready", flush=True)
time.sleep(3600)`),
      });
      await events.waitForOutput(/ready/, W);
      const peak = (await sandbox.stats()).maxMemoryUsedMB;
      assert.ok(peak >= 96 && peak < 200, `peak ${peak} MB`);
      await sandbox.restartRuntime();
      await waitFor("the restarted runtime", () => events.output.match(/ready/g)?.length === 2, W);
      const after = (await sandbox.stats()).maxMemoryUsedMB;
      assert.ok(after > 0 && after < 64, `peak after restart ${after} MB`);
    });

    test("over the memory limit the kernel kills the runtime and onExit says oomKilled", async (t: TestContext) => {
      if (!driver.capabilities().memoryLimit) return t.skip("this driver has no memory limit here");
      const { events } = await start({ memoryMB: 128, bootstrap: pythonBootstrap(`big = b"x" * (200 << 20)\nprint("survived")`) });
      assert.deepEqual(await events.waitForExit(W), { code: null, signal: "SIGKILL", oomKilled: true });
      assert.doesNotMatch(events.output, /survived/);
    });

    test("nodejs20.x runs runtimesDir/nodejs/bootstrap.mjs with a heap cap below the memory size", async () => {
      const { events } = await start({ runtime: "nodejs20.x", memoryMB: 128 });
      assert.deepEqual(await events.waitForExit(W), { code: 0, signal: null, oomKilled: false });
      const info = JSON.parse(/runtime (.*)/.exec(events.output)?.[1] ?? "null") as { argv1: string; execArgv: string[] };
      assert.match(info.argv1, /\/nodejs\/bootstrap\.mjs$/);
      assert.deepEqual(info.execArgv, ["--max-old-space-size=108"]);
      assert.match(events.output, /event \{"hello":"sandbox"\}/);
    });

    test("a pooled sandbox boots with an empty task dir; specialize() places code and layers once, and restarts run as the function", async (t: TestContext) => {
      if (!driver.createPooled) return t.skip("this driver cannot pre-initialize sandboxes");
      const fixture = await ws.sandbox({ runtime: "nodejs20.x", env: lambdaEnv({ POOL_PROBE: "boot" }) });
      const { codeDir, layerDirs, tmpDir, ...rest } = fixture.spec;
      void codeDir;
      void layerDirs;
      const taskDir = await ws.dir(`${rest.id}-task`);
      const optDir = await ws.dir(`${rest.id}-opt`);
      const sandbox = await driver.createPooled({ ...rest, tmpDir, taskDir, optDir }, fixture.events);
      cleanups.push(() => fixture.api.close(), () => sandbox.destroy());
      const code = await ws.dir(`${rest.id}-code`);
      await ws.file(`${rest.id}-code/sub/handler.js`, "exports.handler = 1");
      await ws.file(`${rest.id}-code/ready`, "yes");
      await ws.file(`${rest.id}-layer/nodejs/lib.js`, "layer");
      const fnEnv = lambdaEnv({ POOL_PROBE: "function", FN_ONLY: "yes" });
      const placed = await sandbox.specialize({ codeDir: code, layerDirs: [`${ws.root}/${rest.id}-layer`], env: fnEnv });
      assert.equal(placed.files, 3);
      const rewrites = new Set(options.envRewrites ?? []);
      const strip = (e: Record<string, string>) => Object.fromEntries(Object.entries(e).filter(([k]) => !rewrites.has(k)));
      assert.deepEqual(strip(placed.env), strip(fnEnv), "the env the runtime must adopt is the function's (as the driver presents it)");
      const seen = (n: number) => events.waitForOutput(new RegExp(`(?:POOL=.*\\n){${n}}`), W).then(() => [...events.output.matchAll(/POOL=(.*)/g)].map((m) => JSON.parse(m[1]!)));
      const events = fixture.events;
      const [boot] = await seen(1);
      assert.equal(boot.env.POOL_PROBE, "boot", "the booted runtime keeps its boot environment: telling it is the worker's part");
      assert.deepEqual(boot.task, ["ready", "sub"], "files placed after the jail started are visible in it");
      assert.deepEqual(boot.sub, ["handler.js"]);
      if (driver.name === "process") assert.deepEqual(boot.opt, ["nodejs"]);
      await events.waitForExit(W);
      await sandbox.restartRuntime();
      const [, restarted] = await seen(2);
      assert.equal(restarted.env.POOL_PROBE, "function");
      assert.equal(restarted.env.FN_ONLY, "yes");
      assert.deepEqual(restarted.task, ["ready", "sub"]);
      await assert.rejects(sandbox.specialize({ codeDir: code, layerDirs: [], env: fnEnv }), (e) => isSandboxError(e, "specialized"));
    });

    test("python3.11 runs runtimesDir/python/bootstrap.py unbuffered", async () => {
      const { events } = await start({ runtime: "python3.11" });
      assert.deepEqual(await events.waitForExit(W), { code: 0, signal: null, oomKilled: false });
      const { argv } = JSON.parse(/runtime (.*)/.exec(events.output)?.[1] ?? "null") as { argv: string[] };
      assert.deepEqual(argv.slice(0, 2), ["/usr/bin/python3.11", "-u"]);
      assert.match(argv[2] ?? "", /\/python\/bootstrap\.py$/);
      assert.match(events.output, /event \{"hello":"sandbox"\}/);
    });
  });
}
