/**
 * The jail, as data: a pure function from a sandbox spec (plus facts about the host gathered once)
 * to the host argv to spawn and the bytes to feed it on extra file descriptors. Nothing here
 * touches the system, so every mount and flag is unit-tested without spawning (jail.test.ts).
 *
 * The launch chain, each step an `exec` so the spawned pid ends up being bwrap's:
 *
 *   bash -c LAUNCH_SCRIPT                                  (root: close leaked fds, join the cgroups)
 *   -> setpriv --reuid=993 --regid=993 --clear-groups --no-new-privs  (root: drop to the sandbox uid)
 *   -> bwrap --args 3 -- /bin/sh -c PRELUDE ... runtime    (jail options arrive on fd 3, not in argv)
 *      -> [pid 1 in the sandbox: bwrap's reaper]
 *         -> /bin/sh -c PRELUDE   (starts socat 127.0.0.1:9001 -> /run/kiln/<socket>, waits until it listens)
 *            -> exec the runtime  (pid 2, cwd /var/task, environment exactly spec.env)
 *
 * Passing the options on fd 3 keeps host paths and the function's environment out of `ps` on the
 * host and out of /proc/1/cmdline inside the sandbox (pid 1 is bwrap's reaper, which the function
 * can read): bwrap's command line holds only the prelude and the runtime's argv, all sandbox
 * paths. /etc/passwd, /etc/group, /etc/hosts and /etc/nsswitch.conf are synthetic, on fds 4-7.
 *
 * What the sandbox sees: /usr (+ the merged-/usr symlinks), a few /etc files, fresh /proc and /dev,
 * /var/task (code, ro), /var/runtime (Kiln's runtimes, ro), /opt (layers, ro; an empty directory
 * without layers), /run/kiln (the Runtime API socket's directory, ro), /tmp (rw), and for snapshot
 * starts /var/snapshot/<file> (ro). The root itself is a read-only tmpfs. A pre-initialized sandbox
 * has the same view, with /var/task and /opt bound from directories private to it.
 *
 * Known caveats: several layerDirs merge at their top level only (`/opt/nodejs` from a later layer
 * hides the whole `/opt/nodejs` of an earlier one; bwrap 0.8 has no overlayfs), so the standalone
 * mode passes one tree already merged file by file (artifacts/merged-layers.ts); the socket's file
 * name must be plain (it appears in a socat address).
 */
import { basename, dirname, join } from "node:path";
import { RUNTIME_API_ADDRESS, type SandboxSpec } from "../contract.js";
import { SANDBOX_HOSTNAME, SANDBOX_USER_NAME } from "./options.js";

/** Where the Runtime API socket's directory is mounted inside the sandbox. */
export const SOCKET_DIR_IN_SANDBOX = "/run/kiln";
/** Exit status of the launch chain when joining the memory cgroup failed. */
export const EXIT_CGROUP_JOIN_FAILED = 125;
/** Exit status of the prelude when socat could not start. */
export const EXIT_BRIDGE_FAILED = 70;
/** The first extra fd; fds[i] of a plan is written to fd FIRST_DATA_FD + i. */
export const FIRST_DATA_FD = 3;

/** A host path the sandbox sees either as a symlink (merged /usr) or as a read-only bind. */
export interface HostEntry {
  /** Absolute path, the same inside and outside. */
  path: string;
  /** Set when the host path is a symlink: recreate it instead of binding. */
  symlinkTo?: string;
}

/** Facts about the host, gathered once per driver (see host-view.ts). */
export interface HostView {
  /** /bin, /lib, ... as they exist on the host. */
  rootEntries: HostEntry[];
  /** Present entries of DEFAULT_ETC_ENTRIES, absolute (/etc/...). */
  etcEntries: HostEntry[];
}

/** One layer's directory and its top-level entry names (read at create time). */
export interface LayerView {
  dir: string;
  entries: string[];
}

export interface JailOptions {
  uid: number;
  gid: number;
  /** Switch to uid/gid with setpriv before bwrap (only when Kiln runs as root). */
  switchUser: boolean;
  shPath: string;
  setprivPath: string;
  bwrapPath: string;
  socatPath: string;
  runtimesDir: string | undefined;
}

export interface JailInput {
  spec: SandboxSpec;
  /** The runtime's argv, as seen inside the sandbox. */
  command: string[];
  layers: LayerView[];
  host: HostView;
  options: JailOptions;
  /** The `cgroup.procs` files of the sandbox's cgroups (empty: no cgroups). */
  cgroupProcs: string[];
  /**
   * Pre-initialized sandboxes: a host directory bound read-only as the whole of /opt (filled with
   * the layers at specialization) instead of one bind per layer entry.
   */
  optDir?: string;
  /** Further read-only binds, host path -> sandbox path (the snapshot files of SandboxSpec.startup). */
  extraBinds?: Array<[hostPath: string, sandboxPath: string]>;
}

export interface JailPlan {
  /** Host argv to spawn (argv[0] is an absolute path). */
  argv: string[];
  /** Bytes for the extra fds, fds[i] on fd FIRST_DATA_FD + i. */
  fds: string[];
}

/**
 * The first step of every launch, on the host as root, in bash (dash cannot name fds above 9):
 * closes every inherited fd above $1 (whatever Kiln's own parent leaked to it, e.g. a
 * socket-activation listener, must not reach a function), joins the $2 cgroups whose cgroup.procs
 * files follow, then execs the rest.
 */
export const LAUNCH_SCRIPT = `for f in /proc/self/fd/*; do n=\${f##*/}; ((n > $1)) && exec {n}>&-; done; n=$2; shift 2; while ((n-- > 0)); do echo $$ >"$1" || exit ${EXIT_CGROUP_JOIN_FAILED}; shift; done; exec "$@"`;

/**
 * Runs inside the sandbox as its first process (dash, builtins only while waiting).
 * $1 socat, $2 listen address, $3 connect address, $4 the listener as /proc/net/tcp prints it;
 * the rest is the runtime's argv. Polling /proc/net/tcp with `read` forks nothing; socat is
 * listening within a few milliseconds. If socat dies instead (a zombie still answers `kill -0`,
 * so its /proc state is read), or is not listening after PRELUDE_MAX_POLLS rounds (~0.6 ms each: ~6 s),
 * the sandbox fails with EXIT_BRIDGE_FAILED.
 */
export const PRELUDE_MAX_POLLS = 10_000;
export const PRELUDE_SCRIPT = [
  's=$1 l=$2 c=$3 a=$4 i=0; shift 4',
  '"$s" "$l" "$c" </dev/null >/dev/null 2>&1 &',
  "b=$!",
  "while :; do",
  '  while read -r _ x _ y _; do [ "$x $y" = "$a 0A" ] && break 2; done </proc/net/tcp',
  '  z=Z; read -r _ _ z _ 2>/dev/null <"/proc/$b/stat"; i=$((i + 1))',
  `  [ "$z" != Z ] && [ $i -lt ${PRELUDE_MAX_POLLS} ] || { echo "kiln: the Runtime API bridge (socat) did not start" >&2; exit ${EXIT_BRIDGE_FAILED}; }`,
  "done",
  "unset s l c a b x y z i PWD OLDPWD",
  'exec "$@"',
].join("\n");

/** "127.0.0.1:9001" -> "0100007F:2329", the way /proc/net/tcp prints a local IPv4 address. */
export function procNetTcpAddress(address: string): string {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+):(\d+)$/.exec(address);
  if (!m) throw new TypeError(`not an IPv4 address:port: ${address}`);
  const octets = m.slice(1, 5).map(Number);
  const hex = (n: number, width: number): string => n.toString(16).toUpperCase().padStart(width, "0");
  return octets.reverse().map((o) => hex(o, 2)).join("") + ":" + hex(Number(m[5]), 4);
}

/** Later layers win, entry by entry at the top level; sorted for a stable argv. */
export function mergeLayers(layers: LayerView[]): Array<[name: string, hostPath: string]> {
  const merged = new Map<string, string>();
  for (const layer of layers) for (const entry of layer.entries) merged.set(entry, join(layer.dir, entry));
  return [...merged].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Plain names: sandbox ids (cgroup directory names) and the socket's file name (part of a socat address). */
const SOCKET_NAME = /^[A-Za-z0-9._-]+$/;

export function validateSpec(spec: SandboxSpec): void {
  if (!SOCKET_NAME.test(spec.id) || spec.id.startsWith(".")) throw new TypeError(`sandbox id must match ${SOCKET_NAME.source} (it names cgroups): ${JSON.stringify(spec.id)}`);
  for (const [k, v] of Object.entries(spec.env)) {
    if (!ENV_NAME.test(k)) throw new TypeError(`environment variable name ${JSON.stringify(k)} is not a valid name`);
    if (v.includes("\0")) throw new TypeError(`environment variable ${k} contains a NUL byte`);
  }
  if (!SOCKET_NAME.test(basename(spec.runtimeApiSocket))) {
    throw new TypeError(`runtimeApiSocket file name must match ${SOCKET_NAME.source}: ${spec.runtimeApiSocket}`);
  }
  if (!Number.isInteger(spec.memoryMB) || spec.memoryMB <= 0) throw new TypeError(`memoryMB must be a positive integer, got ${spec.memoryMB}`);
}

/** The synthetic /etc files (order = fds 4, 5, 6, 7). */
export function syntheticEtc(uid: number, gid: number): Array<[path: string, content: string]> {
  return [
    ["/etc/passwd", `root:x:0:0:root:/root:/usr/sbin/nologin\n${SANDBOX_USER_NAME}:x:${uid}:${gid}::/tmp:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`],
    ["/etc/group", `root:x:0:\n${SANDBOX_USER_NAME}:x:${gid}:\nnogroup:x:65534:\n`],
    ["/etc/hosts", `127.0.0.1\tlocalhost ${SANDBOX_HOSTNAME}\n::1\tlocalhost ip6-localhost ip6-loopback\n`],
    ["/etc/nsswitch.conf", "passwd: files\ngroup: files\nshadow: files\nhosts: files\nnetworks: files\nprotocols: files\nservices: files\n"],
  ];
}

function hostEntryArgs(e: HostEntry): string[] {
  return e.symlinkTo !== undefined ? ["--symlink", e.symlinkTo, e.path] : ["--ro-bind", e.path, e.path];
}

/**
 * The bwrap options (what goes on fd 3), the command bwrap runs (which bwrap only accepts on its
 * command line; it names nothing but paths inside the sandbox) and the synthetic file contents.
 */
export function bwrapArguments(input: JailInput): { args: string[]; command: string[]; files: string[] } {
  const { spec, options, host } = input;
  const args: string[] = [
    "--unshare-all",
    "--unshare-user",
    "--disable-userns",
    "--die-with-parent",
    "--new-session",
    "--hostname",
    SANDBOX_HOSTNAME,
    "--ro-bind",
    "/usr",
    "/usr",
  ];
  for (const e of host.rootEntries) args.push(...hostEntryArgs(e));
  args.push("--proc", "/proc", "--dev", "/dev");
  for (const e of host.etcEntries) args.push(...hostEntryArgs(e));
  const etc = syntheticEtc(options.uid, options.gid);
  etc.forEach(([path], i) => args.push("--perms", "0444", "--ro-bind-data", String(FIRST_DATA_FD + 1 + i), path));
  args.push("--ro-bind", spec.codeDir, "/var/task");
  if (options.runtimesDir !== undefined) args.push("--ro-bind", options.runtimesDir, "/var/runtime");
  if (input.optDir !== undefined) args.push("--ro-bind", input.optDir, "/opt");
  else if (input.layers.length === 0) args.push("--dir", "/opt"); // /opt exists without layers too, as on Lambda
  else for (const [name, hostPath] of mergeLayers(input.layers)) args.push("--ro-bind", hostPath, join("/opt", name));
  for (const [hostPath, path] of input.extraBinds ?? []) args.push("--ro-bind", hostPath, path);
  args.push("--ro-bind", dirname(spec.runtimeApiSocket), SOCKET_DIR_IN_SANDBOX);
  args.push("--bind", spec.tmpDir, "/tmp");
  args.push("--remount-ro", "/", "--chdir", "/var/task", "--clearenv");
  for (const [k, v] of Object.entries(spec.env)) args.push("--setenv", k, v);
  const [listenHost, listenPort] = RUNTIME_API_ADDRESS.split(":") as [string, string];
  const command = [
    "/bin/sh",
    "-c",
    PRELUDE_SCRIPT,
    "kiln-init",
    options.socatPath,
    `TCP-LISTEN:${listenPort},bind=${listenHost},fork,reuseaddr`,
    `UNIX-CONNECT:${join(SOCKET_DIR_IN_SANDBOX, basename(spec.runtimeApiSocket))}`,
    procNetTcpAddress(RUNTIME_API_ADDRESS),
    ...input.command,
  ];
  return { args, command, files: etc.map(([, content]) => content) };
}

/** The whole launch: host argv + fd contents. Throws TypeError on a spec the jail cannot express. */
export function planJail(input: JailInput): JailPlan {
  validateSpec(input.spec);
  const { options } = input;
  const { args, command, files } = bwrapArguments(input);
  const bwrap = [options.bwrapPath, "--args", String(FIRST_DATA_FD), "--", ...command];
  const dropped = options.switchUser
    ? [options.setprivPath, `--reuid=${options.uid}`, `--regid=${options.gid}`, "--clear-groups", "--no-new-privs", "--", ...bwrap]
    : bwrap;
  const fds = [args.map((a) => a + "\0").join(""), ...files];
  const argv = [options.shPath, "-c", LAUNCH_SCRIPT, "kiln-launch", String(FIRST_DATA_FD + fds.length - 1), String(input.cgroupProcs.length), ...input.cgroupProcs, ...dropped];
  return { argv, fds };
}
