import { test } from "node:test";
import assert from "node:assert/strict";
import type { SandboxSpec } from "../contract.js";
import { LAUNCH_SCRIPT, PRELUDE_SCRIPT, bwrapArguments, mergeLayers, planJail, procNetTcpAddress, validateSpec, type JailInput } from "./jail.js";

const spec: SandboxSpec = {
  id: "sb-1",
  runtime: "provided.al2023",
  codeDir: "/data/kiln/code/fn-abc",
  layerDirs: ["/data/kiln/layers/l1", "/data/kiln/layers/l2"],
  tmpDir: "/data/kiln/tmp/sb-1",
  env: { AWS_LAMBDA_RUNTIME_API: "127.0.0.1:9001", SECRET_TOKEN: "s3cr3t value", EMPTY: "" },
  memoryMB: 256,
  runtimeApiSocket: "/data/kiln/rapi/sb-1/runtime.sock",
};

function input(over: Partial<JailInput> = {}): JailInput {
  return {
    spec,
    command: ["/var/task/bootstrap"],
    layers: [
      { dir: "/data/kiln/layers/l1", entries: ["bin", "nodejs"] },
      { dir: "/data/kiln/layers/l2", entries: ["nodejs", "python"] },
    ],
    host: {
      rootEntries: [{ path: "/bin", symlinkTo: "usr/bin" }, { path: "/lib", symlinkTo: "usr/lib" }, { path: "/lib64" }],
      etcEntries: [{ path: "/etc/ld.so.cache" }, { path: "/etc/localtime", symlinkTo: "/usr/share/zoneinfo/Etc/UTC" }, { path: "/etc/ssl/certs" }],
    },
    options: { uid: 993, gid: 993, switchUser: true, shPath: "/bin/bash", setprivPath: "/usr/bin/setpriv", bwrapPath: "/usr/bin/bwrap", socatPath: "/usr/bin/socat", runtimesDir: "/opt/kiln/runtimes" },
    cgroupProcs: ["/sys/fs/cgroup/memory/kiln/sb-1/cgroup.procs", "/sys/fs/cgroup/pids/kiln/sb-1/cgroup.procs"],
    ...over,
  };
}

/** bwrap options -> [flag, ...operands] groups. */
function ops(args: string[]): string[][] {
  const arity: Record<string, number> = { "--dir": 1, "--ro-bind": 2, "--bind": 2, "--symlink": 2, "--setenv": 2, "--ro-bind-data": 2, "--proc": 1, "--dev": 1, "--hostname": 1, "--chdir": 1, "--remount-ro": 1, "--perms": 1 };
  const out: string[][] = [];
  for (let i = 0; i < args.length; ) {
    const flag = args[i]!;
    const n = arity[flag] ?? 0;
    out.push(args.slice(i, i + 1 + n));
    i += 1 + n;
  }
  return out;
}

const mounts = (args: string[], flag: string): Array<[string, string]> => ops(args).filter((o) => o[0] === flag).map((o) => [o[1]!, o[2]!]);

test("jail: the launch chain closes fds and joins the cgroups, drops to uid 993, then runs bwrap with options on fd 3", () => {
  const plan = planJail(input());
  const bwrapAt = plan.argv.indexOf("/usr/bin/bwrap");
  assert.deepEqual(plan.argv.slice(0, bwrapAt), [
    "/bin/bash", "-c", LAUNCH_SCRIPT, "kiln-launch", "7", "2", "/sys/fs/cgroup/memory/kiln/sb-1/cgroup.procs", "/sys/fs/cgroup/pids/kiln/sb-1/cgroup.procs",
    "/usr/bin/setpriv", "--reuid=993", "--regid=993", "--clear-groups", "--no-new-privs", "--",
  ]);
  assert.deepEqual(plan.argv.slice(bwrapAt, bwrapAt + 4), ["/usr/bin/bwrap", "--args", "3", "--"]);
  assert.deepEqual(plan.argv.slice(bwrapAt + 4, bwrapAt + 7), ["/bin/sh", "-c", PRELUDE_SCRIPT]);
  assert.deepEqual(plan.argv.slice(-6), ["kiln-init", "/usr/bin/socat", "TCP-LISTEN:9001,bind=127.0.0.1,fork,reuseaddr", "UNIX-CONNECT:/run/kiln/runtime.sock", "0100007F:2329", "/var/task/bootstrap"]);
  assert.equal(plan.fds.length, 5, "fd 3 options + passwd, group, hosts, nsswitch.conf");
  assert.ok(plan.fds[0]!.endsWith("\0") && plan.fds[0]!.split("\0").includes("--unshare-all"));
});

test("jail: without a cgroup or root, the chain skips the join and setpriv", () => {
  const plan = planJail(input({ cgroupProcs: [], options: { ...input().options, switchUser: false } }));
  assert.deepEqual(plan.argv.slice(0, 9), ["/bin/bash", "-c", LAUNCH_SCRIPT, "kiln-launch", "7", "0", "/usr/bin/bwrap", "--args", "3"]);
  assert.ok(!plan.argv.includes("/usr/bin/setpriv"));
});

test("jail: host paths and environment values never appear on a command line", () => {
  const { argv } = planJail(input());
  const joined = argv.join("\n");
  for (const secret of ["/data/kiln", "s3cr3t value", "/opt/kiln/runtimes", "SECRET_TOKEN"]) assert.ok(!joined.includes(secret), `${secret} leaked into argv`);
});

test("jail: all namespaces, no nested user namespaces, dies with its parent", () => {
  const { args } = bwrapArguments(input());
  for (const flag of ["--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session"]) assert.ok(args.includes(flag), flag);
  assert.ok(!args.includes("--share-net"));
  assert.deepEqual(ops(args).find((o) => o[0] === "--hostname"), ["--hostname", "sandbox"]);
});

test("jail: a minimal read-only view; /tmp is the only writable bind; the root is remounted read-only last", () => {
  const { args } = bwrapArguments(input());
  assert.deepEqual(mounts(args, "--bind"), [["/data/kiln/tmp/sb-1", "/tmp"]]);
  const ro = mounts(args, "--ro-bind");
  assert.deepEqual(ro, [
    ["/usr", "/usr"],
    ["/lib64", "/lib64"],
    ["/etc/ld.so.cache", "/etc/ld.so.cache"],
    ["/etc/ssl/certs", "/etc/ssl/certs"],
    ["/data/kiln/code/fn-abc", "/var/task"],
    ["/opt/kiln/runtimes", "/var/runtime"],
    ["/data/kiln/layers/l1/bin", "/opt/bin"],
    ["/data/kiln/layers/l2/nodejs", "/opt/nodejs"],
    ["/data/kiln/layers/l2/python", "/opt/python"],
    ["/data/kiln/rapi/sb-1", "/run/kiln"],
  ]);
  assert.deepEqual(mounts(args, "--symlink"), [["usr/bin", "/bin"], ["usr/lib", "/lib"], ["/usr/share/zoneinfo/Etc/UTC", "/etc/localtime"]]);
  const all = ops(args);
  const remount = all.findIndex((o) => o[0] === "--remount-ro");
  assert.deepEqual(all[remount], ["--remount-ro", "/"]);
  assert.ok(all.slice(remount).every((o) => !["--bind", "--ro-bind", "--symlink", "--ro-bind-data"].includes(o[0]!)), "no mount after the remount");
  assert.deepEqual(ops(args).find((o) => o[0] === "--chdir"), ["--chdir", "/var/task"]);
  assert.ok(args.includes("--proc") && args.includes("--dev"));
});

test("jail: without runtimesDir nothing is mounted at /var/runtime", () => {
  const { args } = bwrapArguments(input({ options: { ...input().options, runtimesDir: undefined } }));
  assert.ok(!mounts(args, "--ro-bind").some(([, dest]) => dest === "/var/runtime"));
});

test("jail: the environment is cleared, then exactly spec.env is set", () => {
  const { args } = bwrapArguments(input());
  const all = ops(args);
  const clear = all.findIndex((o) => o[0] === "--clearenv");
  const sets = all.filter((o) => o[0] === "--setenv");
  assert.ok(clear >= 0 && all.findIndex((o) => o[0] === "--setenv") > clear);
  assert.deepEqual(Object.fromEntries(sets.map((o) => [o[1], o[2]])), spec.env);
});

test("jail: synthetic /etc files arrive read-only on fds 4-7 and name the sandbox user", () => {
  const { args } = bwrapArguments(input());
  const plan = planJail(input());
  const data = mounts(args, "--ro-bind-data");
  assert.deepEqual(data, [["4", "/etc/passwd"], ["5", "/etc/group"], ["6", "/etc/hosts"], ["7", "/etc/nsswitch.conf"]]);
  assert.match(plan.fds[1]!, /^sbx_user1051:x:993:993:/m);
  assert.match(plan.fds[2]!, /^sbx_user1051:x:993:$/m);
  assert.match(plan.fds[3]!, /^127\.0\.0\.1\tlocalhost sandbox$/m);
  assert.equal(ops(args).filter((o) => o[0] === "--perms" && o[1] === "0444").length, 4);
});

test("jail: /opt is an empty directory without layers, as on Lambda", () => {
  const { args } = bwrapArguments(input({ layers: [], spec: { ...spec, layerDirs: [] } }));
  assert.deepEqual(ops(args).filter((o) => o[0] === "--dir"), [["--dir", "/opt"]]);
  assert.ok(!mounts(args, "--ro-bind").some(([, dest]) => dest.startsWith("/opt")));
});

test("jail: a pre-initialized sandbox binds its own /opt whole; snapshot files come as extra read-only binds", () => {
  const { args } = bwrapArguments(input({ optDir: "/data/kiln/sandboxes/pool-1/opt", extraBinds: [["/data/kiln/snapshots/s.blob", "/var/snapshot/snapshot.blob"]] }));
  const ro = mounts(args, "--ro-bind");
  assert.deepEqual(ro.filter(([, dest]) => dest.startsWith("/opt")), [["/data/kiln/sandboxes/pool-1/opt", "/opt"]], "no per-layer binds: the layers are placed into the directory later");
  assert.deepEqual(ro.filter(([, dest]) => dest.startsWith("/var/snapshot")), [["/data/kiln/snapshots/s.blob", "/var/snapshot/snapshot.blob"]]);
  assert.ok(!ops(args).some((o) => o[0] === "--dir"));
  const all = ops(args);
  assert.ok(all.findIndex((o) => o[1] === "/data/kiln/snapshots/s.blob") < all.findIndex((o) => o[0] === "--remount-ro"));
});

test("jail: layers merge at the top level, later layers win", () => {
  assert.deepEqual(mergeLayers([{ dir: "/a", entries: ["x", "y"] }, { dir: "/b", entries: ["y", "z"] }]), [["x", "/a/x"], ["y", "/b/y"], ["z", "/b/z"]]);
  assert.deepEqual(mergeLayers([]), []);
});

test("jail: the Runtime API listener as /proc/net/tcp prints it", () => {
  assert.equal(procNetTcpAddress("127.0.0.1:9001"), "0100007F:2329");
  assert.equal(procNetTcpAddress("10.1.2.3:80"), "0302010A:0050");
  assert.throws(() => procNetTcpAddress("localhost:9001"), TypeError);
});

test("jail: specs the jail cannot express are refused", () => {
  assert.throws(() => validateSpec({ ...spec, env: { "BAD-NAME": "x" } }), /not a valid name/);
  assert.throws(() => validateSpec({ ...spec, env: { A: "x\0y" } }), /NUL/);
  assert.throws(() => validateSpec({ ...spec, runtimeApiSocket: "/x/a,b.sock" }), /file name/);
  assert.throws(() => validateSpec({ ...spec, memoryMB: 0 }), /memoryMB/);
  assert.throws(() => validateSpec({ ...spec, id: "../escape" }), /sandbox id/);
  assert.throws(() => validateSpec({ ...spec, id: ".." }), /sandbox id/);
  assert.doesNotThrow(() => validateSpec(spec));
});
