/**
 * The process driver against the shared suite (jailed with a cgroup, jailed without one, and
 * isolation "none"), plus what only the jailed driver promises: its cgroup's life, layers under
 * /opt, refusal of specs it cannot run. Real bwrap, real cgroups: run as root.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger } from "../../base/index.js";
import { isSandboxError } from "../errors.js";
import { sandboxDriverSuite } from "../sandbox.case.js";
import { Workspace, pythonBootstrap, waitFor } from "../testkit.js";
import { createProcessDriver } from "./driver.js";
import { PLAIN_ENV_REWRITES } from "./plain.js";
import { probeBubblewrap } from "./probe.js";

const logger = createLogger("sandbox-test", "error");
const V1_PARENT = "/sys/fs/cgroup/memory/kiln";
const V1_PIDS_PARENT = "/sys/fs/cgroup/pids/kiln";

sandboxDriverSuite("process (bwrap + cgroup)", ({ runtimesDir }) => createProcessDriver({ isolation: "process", runtimesDir, logger }));
sandboxDriverSuite("process (bwrap, no cgroup)", ({ runtimesDir }) => createProcessDriver({ isolation: "process", runtimesDir, logger, cgroupRoot: false }));
sandboxDriverSuite("none", ({ runtimesDir }) => createProcessDriver({ isolation: "none", runtimesDir, logger }), { envRewrites: PLAIN_ENV_REWRITES });

describe("process driver specifics", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create();
  });
  after(() => ws.remove());

  test("probeBubblewrap() finds bwrap and runs a trial jail", async () => {
    const probe = await probeBubblewrap();
    assert.equal(probe.ok, true, probe.reason);
    assert.match(probe.version ?? "", /^\d+\.\d+/);
    const missing = await probeBubblewrap({ bwrapPath: "/nonexistent/bwrap" });
    assert.equal(missing.ok, false);
    assert.match(missing.reason ?? "", /nonexistent/);
  });

  test("capabilities: memoryLimit only with a memory controller", () => {
    assert.deepEqual(createProcessDriver({ isolation: "process", logger }).capabilities(), { snapshot: false, memoryLimit: true, isolation: "namespaces" });
    assert.equal(createProcessDriver({ isolation: "process", logger, cgroupRoot: false }).capabilities().memoryLimit, false);
    assert.equal(createProcessDriver({ isolation: "process", logger, cgroupRoot: join(ws.root, "no-cgroups") }).capabilities().memoryLimit, false);
    assert.deepEqual(createProcessDriver({ isolation: "none", logger }).capabilities(), { snapshot: false, memoryLimit: false, isolation: "none" });
  });

  test("the sandbox lives in its own memory and pids cgroups, set to memoryMB and 1,024 tasks, renewed by restartRuntime(), removed by destroy()", async () => {
    const driver = createProcessDriver({ isolation: "process", logger });
    const { spec, api, events } = await ws.sandbox({ memoryMB: 192, bootstrap: pythonBootstrap(`print("up", flush=True)\nimport time\ntime.sleep(3600)`) });
    const sandbox = await driver.create(spec, events);
    const cg = join(V1_PARENT, spec.id);
    await events.waitForOutput(/up/);
    assert.equal(readFileSync(join(cg, "memory.limit_in_bytes"), "utf8").trim(), String(192 * 1024 * 1024));
    if (existsSync(join(cg, "memory.memsw.limit_in_bytes"))) assert.equal(readFileSync(join(cg, "memory.memsw.limit_in_bytes"), "utf8").trim(), String(192 * 1024 * 1024));
    const procs = readFileSync(join(cg, "cgroup.procs"), "utf8").trim().split("\n").map(Number);
    assert.ok(procs.includes(sandbox.pid!), "bwrap itself is in the cgroup");
    assert.ok(procs.length >= 4, `bwrap, its pid 1, socat and the runtime are all in the cgroup: ${procs}`);
    const pidsCg = join(V1_PIDS_PARENT, spec.id);
    assert.equal(readFileSync(join(pidsCg, "pids.max"), "utf8").trim(), "1024");
    assert.deepEqual(readFileSync(join(pidsCg, "cgroup.procs"), "utf8").trim().split("\n").map(Number).sort(), [...procs].sort());
    await sandbox.restartRuntime();
    await waitFor("the restarted runtime", () => events.output.match(/up/g)?.length === 2);
    assert.ok(readFileSync(join(cg, "cgroup.procs"), "utf8").includes(String(sandbox.pid)));
    await sandbox.destroy();
    assert.equal(existsSync(cg), false);
    assert.equal(existsSync(pidsCg), false);
    await api.close();
  });

  test("layers appear under /opt, later layers winning per top-level entry", async () => {
    const l1 = await ws.dir("layer1");
    const l2 = await ws.dir("layer2");
    await ws.file("layer1/bin/tool", "one");
    await ws.file("layer1/python/lib.py", "one");
    await ws.file("layer2/python/lib.py", "two");
    const driver = createProcessDriver({ isolation: "process", logger });
    const { spec, api, events } = await ws.sandbox({
      layerDirs: [l1, l2],
      bootstrap: pythonBootstrap(`print("OPT=" + json.dumps([sorted(os.listdir("/opt")), open("/opt/bin/tool").read(), open("/opt/python/lib.py").read()]))`),
    });
    const sandbox = await driver.create(spec, events);
    await events.waitForExit();
    assert.match(events.output, /OPT=\[\["bin", "python"\], "one", "two"\]/);
    await sandbox.destroy();
    await api.close();
  });

  test("if the Runtime API bridge cannot start, the runtime never starts and the exit says why", async () => {
    const driver = createProcessDriver({ isolation: "process", logger, socatPath: "/usr/bin/false" });
    const { spec, api, events } = await ws.sandbox({ bootstrap: "#!/bin/sh\necho runtime-started\n" });
    const sandbox = await driver.create(spec, events);
    assert.deepEqual(await events.waitForExit(), { code: 70, signal: null, oomKilled: false });
    assert.match(events.output, /Runtime API bridge \(socat\) did not start/);
    assert.doesNotMatch(events.output, /runtime-started/);
    await sandbox.destroy();
    await api.close();
  });

  test("specs the driver cannot run are refused with typed errors", async () => {
    const driver = createProcessDriver({ isolation: "process", logger });
    const { spec, api, events } = await ws.sandbox({ bootstrap: "#!/bin/sh\n" });
    await assert.rejects(driver.create({ ...spec, runtime: "nodejs20.x" }, events), (e) => isSandboxError(e, "misconfigured") && /runtimesDir/.test(e.message));
    await assert.rejects(driver.create({ ...spec, env: { "NOT-A-NAME": "x" } }, events), (e) => isSandboxError(e, "misconfigured"));
    await api.close();
  });
});
