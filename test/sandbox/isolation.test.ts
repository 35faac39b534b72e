/**
 * Escape attempts against the process driver's jail (isolation "process", real bwrap and cgroups;
 * run as root). Each probe is a bootstrap that tries something a hostile function would try and
 * prints what happened as `RESULT=<json>`; each assertion would fail if that part of the isolation
 * were missing (the preconditions check that the host really has what the function must not reach).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { createServer, createConnection, type Server } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createLogger } from "../../src/base/index.js";
import { createProcessDriver, type SandboxDriver, type SandboxSpec } from "../../src/sandbox/index.js";
import { RecordingEvents, Workspace, lambdaEnv, nodeBootstrap, pythonBootstrap, waitFor } from "../../src/sandbox/testkit.js";

const PROJECT_DIR = fileURLToPath(new URL("../../..", import.meta.url)).replace(/\/$/, "");
const SANDBOX_INDEX = new URL("../../src/sandbox/index.js", import.meta.url).href;
const TESTKIT = new URL("../../src/sandbox/testkit.js", import.meta.url).href;
const CGROUP_PARENT = "/sys/fs/cgroup/memory/kiln";

describe("process sandbox isolation", () => {
  let ws: Workspace;
  let driver: SandboxDriver;
  let hostServer: Server;
  let hostPort = 0;
  let hostConnections = 0;
  let secretFile: string;
  const cleanups: Array<() => Promise<void>> = [];

  before(async () => {
    process.env.NODE_EXTRA_CA_CERTS ??= "/etc/ssl/certs/ca-certificates.crt";
    process.env.KILN_ISOLATION_CANARY = "must-not-leak";
    ws = await Workspace.create("kiln-isolation-");
    await ws.dir("runtimes/nodejs");
    driver = createProcessDriver({ isolation: "process", runtimesDir: join(ws.root, "runtimes"), logger: createLogger("isolation-test", "error") });
    // A "data dir" next to the sandboxes, world-readable: only the mount namespace keeps it out.
    await ws.dir("data", 0o755);
    secretFile = await ws.file("data/secret.txt", "TOP-SECRET-42", 0o644);
    hostServer = createServer((s) => {
      hostConnections++;
      s.on("error", () => undefined);
      s.end("hello from the host\n");
    });
    await new Promise<void>((r) => hostServer.listen(0, "127.0.0.1", r));
    hostPort = (hostServer.address() as { port: number }).port;
  });

  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    hostServer.close();
    await ws.remove();
  });

  async function start(opts: Parameters<Workspace["sandbox"]>[0]) {
    const fixture = await ws.sandbox(opts);
    const sandbox = await driver.create(fixture.spec, fixture.events);
    cleanups.push(() => fixture.api.close(), () => sandbox.destroy());
    return { ...fixture, sandbox };
  }

  /** Runs a Python probe to completion and returns what it printed as RESULT=. */
  async function probe<T = Record<string, unknown>>(code: string, opts: Parameters<Workspace["sandbox"]>[0] = {}): Promise<T> {
    const { events } = await start({ ...opts, bootstrap: pythonBootstrap(`def attempt(f):
    try:
        return ["ok", f()]
    except Exception as e:
        return [type(e).__name__, getattr(e, "errno", None)]
${code}`) });
    await events.waitForExit();
    const line = /^RESULT=(.*)$/m.exec(events.output);
    assert.ok(line, `the probe printed no RESULT: ${events.output}`);
    return JSON.parse(line[1]!) as T;
  }

  test("/etc/shadow and the rest of the host's /etc are not there", async () => {
    assert.ok(existsSync("/etc/shadow") && existsSync("/etc/hostname"), "precondition: the host has them");
    const r = await probe<{ shadow: unknown; etc: string[] }>(`print("RESULT=" + json.dumps({"shadow": attempt(lambda: open("/etc/shadow").read()), "etc": sorted(os.listdir("/etc"))}))`);
    assert.deepEqual(r.shadow, ["FileNotFoundError", 2]);
    for (const f of r.etc) assert.ok(["alternatives", "group", "hosts", "ld.so.cache", "localtime", "mime.types", "nsswitch.conf", "passwd", "protocols", "services", "ssl"].includes(f), `unexpected /etc/${f}`);
    assert.ok(!r.etc.includes("shadow") && !r.etc.includes("hostname"));
  });

  test("/root, /home, /work, the project and the Kiln data dir are invisible", async () => {
    for (const p of ["/root", "/home", PROJECT_DIR, ws.root]) assert.ok(existsSync(p), `precondition: ${p} exists on the host`);
    // Precondition: without the jail the sandbox uid could read the secret (it is world-readable).
    assert.equal(execFileSync("/usr/bin/setpriv", ["--reuid=993", "--regid=993", "--clear-groups", "/bin/cat", secretFile]).toString(), "TOP-SECRET-42");
    const paths = ["/root", "/home", "/work", PROJECT_DIR, join(PROJECT_DIR, "package.json"), ws.root, secretFile];
    const r = await probe<{ root: string[]; var: string[]; run: string[]; seen: boolean[]; secretFound: string[] }>(`paths = ${JSON.stringify(paths)}
found = []
for top in ["/etc", "/tmp", "/var", "/run", "/opt"]:
    for d, _, files in os.walk(top):
        for f in files:
            try:
                if b"TOP-" + b"SECRET" in open(os.path.join(d, f), "rb").read():
                    found.append(os.path.join(d, f))
            except OSError:
                pass
print("RESULT=" + json.dumps({"root": sorted(os.listdir("/")), "var": sorted(os.listdir("/var")), "run": sorted(os.listdir("/run/kiln")), "seen": [os.path.exists(p) for p in paths], "secretFound": found}))`);
    assert.deepEqual(r.seen, paths.map(() => false));
    assert.deepEqual(r.secretFound, []);
    assert.deepEqual(r.var, ["runtime", "task"]);
    assert.deepEqual(r.run, ["runtime.sock"]);
    for (const d of r.root) assert.ok(["bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "opt", "proc", "run", "sbin", "tmp", "usr", "var"].includes(d), `unexpected /${d}`); // /opt: empty without layers, as on Lambda
  });

  test("/var/task is read-only although the host dir is world-writable; so are /, /etc and /var/runtime", async () => {
    const r = await probe<Record<string, unknown>>(
      `w = lambda p: attempt(lambda: open(p, "w").write("x"))
print("RESULT=" + json.dumps({"task": w("/var/task/pwned"), "root": w("/pwned"), "etc": w("/etc/passwd"), "runtime": w("/var/runtime/pwned")}))`,
      { codeMode: 0o777 },
    );
    assert.deepEqual(r, { task: ["OSError", 30], root: ["OSError", 30], etc: ["OSError", 30], runtime: ["OSError", 30] });
    assert.equal(readdirSync(ws.root, { recursive: true }).some((f) => String(f).endsWith("pwned")), false);
  });

  test("/tmp is writable, owned by the sandbox user, and survives restartRuntime()", async () => {
    const { spec, sandbox, events } = await start({
      bootstrap: pythonBootstrap(`import time
p = "/tmp/state"
if os.path.exists(p):
    print("RESTARTED found=" + open(p).read(), flush=True)
else:
    open(p, "w").write("written-before-restart")
    print("FIRST wrote", flush=True)
time.sleep(3600)`),
    });
    await events.waitForOutput(/FIRST wrote/);
    assert.equal(statSync(join(spec.tmpDir, "state")).uid, 993);
    await sandbox.restartRuntime();
    await events.waitForOutput(/RESTARTED found=written-before-restart/);
    assert.deepEqual(events.exits, []);
  });

  test("only loopback: the host's 127.0.0.1 and the outside world are unreachable", async () => {
    // Precondition: the host server does answer on the host.
    await new Promise<void>((resolve, reject) => {
      const s = createConnection(hostPort, "127.0.0.1");
      s.on("connect", () => (s.destroy(), resolve())).on("error", reject);
    });
    await waitFor("the precondition connection", () => hostConnections === 1);
    const r = await probe<Record<string, unknown>>(`import socket
def connect(host, port):
    s = socket.create_connection((host, port), timeout=2)
    return s.recv(100).decode()
print("RESULT=" + json.dumps({
    "host": attempt(lambda: connect("127.0.0.1", ${hostPort})),
    "kilnApi": attempt(lambda: connect("127.0.0.1", 9900)),
    "outside": attempt(lambda: connect("1.1.1.1", 53)),
    "ifaces": sorted(l.split(":")[0].strip() for l in open("/proc/net/dev").read().splitlines()[2:]),
}))`);
    assert.deepEqual(r.host, ["ConnectionRefusedError", 111]);
    assert.deepEqual(r.kilnApi, ["ConnectionRefusedError", 111]);
    assert.deepEqual(r.outside, ["OSError", 101], "network is unreachable");
    assert.deepEqual(r.ifaces, ["lo"]);
    assert.equal(hostConnections, 1, "the sandbox reached the host's loopback");
  });

  test("host processes are invisible; pid 1's command line names no host path", async () => {
    const r = await probe<{ procs: Array<[number, string]>; cmdline1: string }>(`pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
print("RESULT=" + json.dumps({"procs": [[p, open("/proc/%d/comm" % p).read().strip()] for p in pids], "cmdline1": open("/proc/1/cmdline").read()}))`);
    assert.deepEqual(r.procs.map(([, comm]) => comm).sort(), ["bootstrap", "bwrap", "socat"]);
    assert.ok(r.procs.every(([pid]) => pid < 10));
    assert.ok(!r.cmdline1.includes(ws.root), r.cmdline1);
    assert.match(r.cmdline1, /^\/usr\/bin\/bwrap\0--args\x003\0--\0\/bin\/sh\0/);
  });

  test("the environment is spec.env exactly: no NODE_EXTRA_CA_CERTS, no host variables", async () => {
    const env = lambdaEnv();
    const { events } = await start({ env, bootstrap: nodeBootstrap(`console.log("ENV=" + JSON.stringify(process.env))`) });
    await events.waitForExit();
    const got = JSON.parse(/ENV=(.*)/.exec(events.output)![1]!) as Record<string, string>;
    assert.ok(process.env.NODE_EXTRA_CA_CERTS && process.env.KILN_ISOLATION_CANARY, "precondition: the host has them");
    assert.deepEqual(got, env);
    assert.doesNotMatch(events.output, /Ignoring extra certs/);
  });

  test("runs as sbx_user1051 (uid 993) on the host too, with no capabilities, no groups and no user namespaces", async () => {
    const { spec, events } = await start({
      bootstrap: pythonBootstrap(`import pwd, subprocess, time
caps = [l.split()[1] for l in open("/proc/self/status") if l.startswith(("CapEff", "CapPrm", "CapBnd"))]
userns = subprocess.run(["/usr/bin/unshare", "-Ur", "/bin/true"], capture_output=True).returncode
print("RESULT=" + json.dumps({"uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups(), "name": pwd.getpwuid(os.getuid()).pw_name, "caps": caps, "unshare": userns, "host": open("/proc/sys/kernel/hostname").read().strip()}), flush=True)
time.sleep(3600)`),
    });
    await events.waitForOutput(/RESULT=/);
    const r = JSON.parse(/RESULT=(.*)/.exec(events.output)![1]!) as Record<string, unknown>;
    assert.deepEqual(r, { uid: 993, gid: 993, groups: [], name: "sbx_user1051", caps: ["0000000000000000", "0000000000000000", "0000000000000000"], unshare: 1, host: "sandbox" });
    const pids = readFileSync(join(CGROUP_PARENT, spec.id, "cgroup.procs"), "utf8").trim().split("\n");
    assert.ok(pids.length >= 4);
    for (const pid of pids) {
      const uids = /^Uid:\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]!.split(/\s+/);
      assert.deepEqual(uids, ["993", "993", "993", "993"], `host pid ${pid} does not run as 993`);
    }
  });

  test("allocating past the memory limit gets the runtime OOM-killed, and onExit says so", async () => {
    assert.equal(driver.capabilities().memoryLimit, true, "precondition: cgroups work here");
    const { events } = await start({ memoryMB: 128, bootstrap: "#!/bin/sh\n/usr/bin/python3.11 -c 'b = bytearray(200*1024*1024)'\necho survived\n" });
    const exit = await events.waitForExit();
    assert.equal(exit.oomKilled, true);
    // The shell survives its python child being killed and exits normally: oomKilled comes from the cgroup, not the status.
    assert.match(events.output, /survived/);
  });

  test("a thread/fork bomb stops at the sandbox's process limit (1,024, as on Lambda)", async () => {
    const r = await probe<{ started: number; error: string }>(`import threading, time
started, error = 0, None
try:
    for _ in range(3000):
        threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
        started += 1
except Exception as e:
    error = type(e).__name__
print("RESULT=" + json.dumps({"started": started, "error": error}), flush=True)
os._exit(0)`, { memoryMB: 512 });
    assert.equal(r.error, "RuntimeError");
    assert.ok(r.started > 900 && r.started < 1024, `started ${r.started} threads`);
  });

  test("the Runtime API answers at 127.0.0.1:9001 on the very first try, from a shell bootstrap", async () => {
    const client = `/usr/bin/python3.11 -c 'import urllib.request; print("GOT " + urllib.request.urlopen("http://127.0.0.1:9001/2018-06-01/runtime/invocation/next").read().decode())'`;
    const runs = await Promise.all(Array.from({ length: 6 }, () => start({ bootstrap: `#!/bin/sh\n${client}\n` })));
    for (const { events, api } of runs) {
      assert.deepEqual(await events.waitForExit(), { code: 0, signal: null, oomKilled: false }, events.output);
      assert.match(events.output, /GOT \{"hello":"sandbox"\}/);
      assert.equal(api.requests.length, 1);
    }
  });

  test("sandboxes cannot see each other's /tmp or processes", async () => {
    const a = await start({ bootstrap: pythonBootstrap(`open("/tmp/a-private", "w").write("a")\nprint("A ready", flush=True)\nimport time\ntime.sleep(3600)`) });
    await a.events.waitForOutput(/A ready/);
    const r = await probe<{ tmp: string[]; procs: number }>(`print("RESULT=" + json.dumps({"tmp": os.listdir("/tmp"), "procs": len([p for p in os.listdir("/proc") if p.isdigit()])}))`);
    assert.deepEqual(r.tmp, []);
    assert.equal(r.procs, 3);
  });

  test("no file descriptor of Kiln's leaks in; the sandbox dies with Kiln", async () => {
    // A separate Kiln-like process with a leaked (non-close-on-exec) fd 9 creates a sandbox, then is SIGKILLed.
    const { spec, api } = await ws.sandbox({
      bootstrap: pythonBootstrap(`print("FDS=" + json.dumps(sorted(os.listdir("/proc/self/fd"))), flush=True)\nimport time\ntime.sleep(3600)`),
    });
    cleanups.push(() => api.close());
    const script = `
      const { createProcessDriver } = await import(${JSON.stringify(SANDBOX_INDEX)});
      const { RecordingEvents } = await import(${JSON.stringify(TESTKIT)});
      const spec = JSON.parse(process.argv[1]);
      const events = new RecordingEvents();
      events.onOutput = (c) => process.stdout.write(c);
      await createProcessDriver({ isolation: "process" }).create(spec, events);
      setInterval(() => {}, 1000);`;
    const kiln = spawn(process.execPath, ["--input-type=module", "-e", script, JSON.stringify(spec satisfies SandboxSpec)], {
      stdio: ["ignore", "pipe", "inherit", "ignore", "ignore", "ignore", "ignore", "ignore", "ignore", "pipe"],
    });
    const events = new RecordingEvents();
    kiln.stdout!.on("data", (c: Buffer) => events.onOutput(c));
    const fds = JSON.parse((await events.waitForOutput(/FDS=(.*)/))[1]!) as string[];
    assert.deepEqual(fds, ["0", "1", "2", "3"], "only stdio and the listing's own fd");
    const procs = join(CGROUP_PARENT, spec.id, "cgroup.procs");
    assert.ok(readFileSync(procs, "utf8").trim().split("\n").length >= 4);
    kiln.kill("SIGKILL");
    await waitFor("every sandbox process to die with Kiln", () => readFileSync(procs, "utf8").trim() === "", 5_000);
    execFileSync("/bin/rmdir", [join(CGROUP_PARENT, spec.id), join("/sys/fs/cgroup/pids/kiln", spec.id)]);
  });
});
