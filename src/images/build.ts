/**
 * The guest image pipeline: kernel + boot initramfs + read-only ext4 root, cached by input hash.
 *
 *   1. inputs  -> key: the kernel package's candidate version (apt-cache), the sizes and mtimes of
 *                 the host's node and python3.11, the versions of the Debian packages the root
 *                 image copies from, and the guest scripts' bytes. Same inputs, same key.
 *   2. kernel:    `apt-get download linux-image-cloud-amd64` and the image package it depends on
 *                 (cached .debs), `dpkg-deb -x`, take vmlinuz and the virtio modules.
 *   3. initramfs: newc cpio written here (cpio.ts): static busybox as /init's shell, the modules
 *                 in load order, /init = guest/initramfs-init.sh. Uncompressed (faster under TCG).
 *   4. root:      staging tree (node + its libs, python3.11 + trimmed stdlib + lib-dynload + libs,
 *                 busybox, /sbin/init, the agent, /etc basics) -> `mkfs.ext4 -d` with a fixed UUID,
 *                 hash seed and E2FSPROGS_FAKE_TIME; copied files keep their package mtimes (Python
 *                 checks .pyc against them), everything generated gets mtime 0. No mounting.
 *   5. `<cacheDir>/<key>/` holds vmlinuz, initrd.cpio, rootfs.ext4 and image.json (sha256 of each
 *      and of the three together: `hash`). Built in a scratch dir and renamed into place, so
 *      concurrent builders never see half an image.
 *
 * Known caveats: reproducible for the same host packages (the root copies the host's node and
 * python); the key trusts sizes and mtimes of the two binaries instead of hashing them.
 */
import { createHash } from "node:crypto";
import { spawn } from "node:child_process";
import { chmod, cp, lstat, mkdir, readFile, readdir, readlink, rename, rm, stat, symlink, writeFile, lutimes, copyFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { writeCpio, type CpioEntry } from "./cpio.js";

/** Bumped whenever the pipeline's output changes for the same inputs. */
export const PIPELINE_VERSION = 4;
export const KERNEL_PACKAGE = "linux-image-cloud-amd64";
/** Load order matters: each needs the ones before it. */
export const GUEST_MODULES = ["virtio_ring", "virtio", "virtio_mmio", "virtio_blk", "failover", "net_failover", "virtio_net", "virtio_console"] as const;
/** The fixed identity of every root image (reproducibility). */
export const ROOT_UUID = "6b696c6e-726f-4f74-8000-000000000001";
export const FAKE_TIME = 1_700_000_000;
const PYTHON_SKIP = new Set(["test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "pydoc_data", "config-3.11-x86_64-linux-gnu", "distutils", "unittest/test"]);
/** Host packages the root image copies from (their versions are part of the key). */
const HOST_PACKAGES = ["libc6", "libstdc++6", "libgcc-s1", "libpython3.11-minimal", "libpython3.11-stdlib", "python3.11-minimal", "busybox-static", "zlib1g", "libexpat1", "libffi8", "libssl3"];

export const GUEST_DIR = fileURLToPath(new URL("../../../src/sandbox/microvm/guest", import.meta.url));

export interface GuestImage {
  dir: string;
  key: string;
  /** sha256 over the three files: equal hashes mean equal images. */
  hash: string;
  kernel: string;
  initrd: string;
  rootfs: string;
  kernelVersion: string;
  files: Record<string, { sha256: string; bytes: number }>;
  /** Whether this call built it (false: found in the cache). */
  built: boolean;
  buildMs: number;
}

export interface ImageBuildOptions {
  cacheDir?: string;
  progress?: (line: string) => void;
  nodeBin?: string;
  pythonBin?: string;
}

/** KILN_IMAGE_CACHE, else ~/.cache/kiln/images (os tmp dir when there is no home). */
export function defaultImageCache(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KILN_IMAGE_CACHE) return env.KILN_IMAGE_CACHE;
  const home = homedir();
  return home ? join(home, ".cache", "kiln", "images") : join(tmpdir(), "kiln-images");
}

export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString());
      else reject(new Error(`${cmd} ${args.join(" ")} failed (exit ${code}): ${Buffer.concat(err).toString().trim().slice(-800)}`));
    });
  });
}

async function sha256File(path: string): Promise<string> {
  return createHash("sha256").update(await readFile(path)).digest("hex");
}

async function kernelPackage(): Promise<{ meta: string; version: string; image: string }> {
  const show = await run("apt-cache", ["show", "--no-all-versions", KERNEL_PACKAGE]);
  const version = /^Version: (.+)$/m.exec(show)?.[1]?.trim();
  const image = /^Depends: .*?(linux-image-[0-9][^ ,]*)/m.exec(show)?.[1];
  if (!version || !image) throw new Error(`apt-cache show ${KERNEL_PACKAGE}: no version or image dependency (run apt-get update)`);
  return { meta: KERNEL_PACKAGE, version, image };
}

async function packageVersions(): Promise<string> {
  const out = await run("dpkg-query", ["-W", "-f", "${Package} ${Version}\\n", ...HOST_PACKAGES]).catch((e: Error) => e.message);
  return out;
}

async function inputsKey(o: Required<Pick<ImageBuildOptions, "nodeBin" | "pythonBin">>): Promise<{ key: string; kernel: { meta: string; version: string; image: string } }> {
  const kernel = await kernelPackage();
  const bin = async (p: string) => {
    const s = await stat(p);
    return [p, s.size, Math.floor(s.mtimeMs)];
  };
  const scripts = await Promise.all(["agent.py", "init.sh", "initramfs-init.sh"].map(async (f) => [f, createHash("sha256").update(await readFile(join(GUEST_DIR, f))).digest("hex")]));
  const inputs = { PIPELINE_VERSION, kernel, node: await bin(o.nodeBin), python: await bin(o.pythonBin), packages: await packageVersions(), scripts, modules: GUEST_MODULES };
  return { key: createHash("sha256").update(JSON.stringify(inputs)).digest("hex").slice(0, 20), kernel };
}

/** Returns the cached image for these inputs, building it first if needed. */
export async function ensureGuestImage(opts: ImageBuildOptions = {}): Promise<GuestImage> {
  const t0 = performance.now();
  const cacheDir = opts.cacheDir ?? defaultImageCache();
  const progress = opts.progress ?? (() => undefined);
  const nodeBin = opts.nodeBin ?? "/usr/bin/node";
  const pythonBin = opts.pythonBin ?? "/usr/bin/python3.11";
  const { key, kernel } = await inputsKey({ nodeBin, pythonBin });
  const dir = join(cacheDir, key);
  const manifest = join(dir, "image.json");
  if (existsSync(manifest)) {
    const img = JSON.parse(await readFile(manifest, "utf8")) as GuestImage;
    return { ...img, dir, kernel: join(dir, "vmlinuz"), initrd: join(dir, "initrd.cpio"), rootfs: join(dir, "rootfs.ext4"), built: false, buildMs: performance.now() - t0 };
  }
  progress(`images: building guest image ${key} in ${cacheDir}`);
  await mkdir(cacheDir, { recursive: true, mode: 0o755 });
  const scratch = join(cacheDir, `.build-${key}-${process.pid}-${Date.now()}`);
  await mkdir(scratch, { recursive: true });
  try {
    const debs = join(cacheDir, "debs");
    await mkdir(debs, { recursive: true });
    const kernelDir = join(scratch, "kernel");
    const kernelVersion = await fetchKernel(kernel.image, debs, kernelDir, progress);
    const out = join(scratch, "out");
    await mkdir(out);
    await copyFile(join(kernelDir, "boot", `vmlinuz-${kernelVersion}`), join(out, "vmlinuz"));
    progress("images: writing the initramfs (busybox + virtio modules)");
    await writeFile(join(out, "initrd.cpio"), await initramfs(join(kernelDir, "lib", "modules", kernelVersion)));
    progress("images: staging the root file system (node, python3.11, libraries, agent)");
    const staging = join(scratch, "root");
    await stageRoot(staging, nodeBin, pythonBin);
    progress("images: mkfs.ext4 -d (read-only root image)");
    await mkfsFromDir(staging, join(out, "rootfs.ext4"), { uuid: ROOT_UUID, label: "kiln-root", slackMB: 16 });
    const files: GuestImage["files"] = {};
    for (const f of ["vmlinuz", "initrd.cpio", "rootfs.ext4"]) files[f] = { sha256: await sha256File(join(out, f)), bytes: (await stat(join(out, f))).size };
    const hash = createHash("sha256").update(Object.values(files).map((f) => f.sha256).join("\n")).digest("hex");
    const buildMs = performance.now() - t0;
    const img = { key, hash, kernelVersion, files, builtAtMs: buildMs };
    await writeFile(join(out, "image.json"), JSON.stringify(img, null, 2) + "\n");
    await rename(out, dir).catch(async (e: NodeJS.ErrnoException) => {
      if (e.code !== "ENOTEMPTY" && e.code !== "EEXIST") throw e; // another builder won: same bytes
    });
    progress(`images: built ${key} (hash ${hash.slice(0, 16)}) in ${(buildMs / 1000).toFixed(1)} s`);
    await pruneImages(cacheDir, key);
    return { ...img, dir, kernel: join(dir, "vmlinuz"), initrd: join(dir, "initrd.cpio"), rootfs: join(dir, "rootfs.ext4"), built: true, buildMs };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Images kept in a cache besides the newest (older keys are other inputs: an upgraded node, ...). */
export const KEEP_OLD_IMAGES = 2;

/** Removes all but the KEEP_OLD_IMAGES most recently built other images (never `keep`). */
async function pruneImages(cacheDir: string, keep: string): Promise<void> {
  const others: Array<{ dir: string; at: number }> = [];
  for (const e of await readdir(cacheDir, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name === keep || !/^[0-9a-f]{20}$/.test(e.name)) continue;
    const at = await stat(join(cacheDir, e.name, "image.json")).then((s) => s.mtimeMs, () => 0);
    others.push({ dir: join(cacheDir, e.name), at });
  }
  others.sort((a, b) => b.at - a.at);
  for (const o of others.slice(KEEP_OLD_IMAGES)) await rm(o.dir, { recursive: true, force: true });
}

async function fetchKernel(imagePkg: string, debs: string, into: string, progress: (l: string) => void): Promise<string> {
  let deb = (await readdir(debs)).find((f) => f.startsWith(`${imagePkg}_`) && f.endsWith(".deb"));
  if (!deb) {
    progress(`images: apt-get download ${imagePkg}`);
    await run("apt-get", ["download", "-o", "APT::Sandbox::User=root", imagePkg], { cwd: debs });
    deb = (await readdir(debs)).find((f) => f.startsWith(`${imagePkg}_`) && f.endsWith(".deb"));
    if (!deb) throw new Error(`apt-get download ${imagePkg} left no .deb in ${debs}`);
  }
  progress(`images: dpkg-deb -x ${deb}`);
  await mkdir(into, { recursive: true });
  await run("dpkg-deb", ["-x", join(debs, deb), into]);
  const versions = await readdir(join(into, "lib", "modules"));
  if (versions.length !== 1) throw new Error(`expected one kernel in ${deb}, found ${versions.join(", ")}`);
  return versions[0]!;
}

async function findModules(modulesDir: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith(".ko")) found.set(e.name.slice(0, -3).replace(/-/g, "_"), p);
    }
  };
  await walk(join(modulesDir, "kernel"));
  return found;
}

async function initramfs(modulesDir: string): Promise<Buffer> {
  const modules = await findModules(modulesDir);
  const entries: CpioEntry[] = [
    { kind: "dir", path: "bin" },
    { kind: "dir", path: "dev" },
    { kind: "dir", path: "proc" },
    { kind: "dir", path: "sys" },
    { kind: "dir", path: "modules" },
    { kind: "file", path: "bin/busybox", data: await readFile("/bin/busybox"), mode: 0o755 },
    { kind: "symlink", path: "bin/sh", target: "busybox" },
    { kind: "file", path: "init", data: await readFile(join(GUEST_DIR, "initramfs-init.sh")), mode: 0o755 },
    { kind: "file", path: "modules.order", data: Buffer.from(GUEST_MODULES.join("\n") + "\n") },
  ];
  for (const m of GUEST_MODULES) {
    const p = modules.get(m);
    if (!p) throw new Error(`kernel module ${m} not found under ${modulesDir}`);
    entries.push({ kind: "file", path: `modules/${m}.ko`, data: await readFile(p) });
  }
  return writeCpio(entries);
}

/** Shared libraries `ldd` lists for these binaries (resolved host paths), plus the loader. */
async function sharedLibs(binaries: string[]): Promise<Set<string>> {
  const libs = new Set<string>();
  for (const b of binaries) {
    const out = await run("ldd", [b]).catch(() => "");
    for (const line of out.split("\n")) {
      const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
      if (m) libs.add(m[1]!);
    }
  }
  return libs;
}

async function stageRoot(root: string, nodeBin: string, pythonBin: string): Promise<void> {
  for (const d of ["usr/bin", "usr/sbin", "usr/lib/x86_64-linux-gnu", "usr/lib64", "usr/lib/kiln", "etc", "proc", "sys", "dev", "run", "tmp", "var/task", "var/runtime", "opt"]) await mkdir(join(root, d), { recursive: true, mode: 0o755 });
  await chmod(join(root, "tmp"), 0o1777);
  for (const [l, t] of [["bin", "usr/bin"], ["sbin", "usr/sbin"], ["lib", "usr/lib"], ["lib64", "usr/lib64"]] as const) await symlink(t, join(root, l));
  await copyFile("/bin/busybox", join(root, "usr/bin/busybox"));
  await symlink("busybox", join(root, "usr/bin/sh"));
  await cp(nodeBin, join(root, "usr/bin/node"), { preserveTimestamps: true });
  await cp(pythonBin, join(root, "usr/bin/python3.11"), { preserveTimestamps: true });
  await symlink("python3.11", join(root, "usr/bin/python3"));
  await cp("/usr/lib/python3.11", join(root, "usr/lib/python3.11"), {
    recursive: true,
    preserveTimestamps: true,
    filter: (src) => {
      const rel = relative("/usr/lib/python3.11", src);
      if (PYTHON_SKIP.has(rel) || rel === "site-packages" || rel === "dist-packages") return false;
      return !(/\.opt-[12]\.pyc$/.test(src) || rel.endsWith(".exe"));
    },
  });
  const dynload = join("/usr/lib/python3.11", "lib-dynload");
  const sos = (await readdir(dynload)).filter((f) => f.endsWith(".so")).map((f) => join(dynload, f));
  for (const lib of await sharedLibs([nodeBin, pythonBin, ...sos])) {
    const name = basename(lib);
    const dest = name.startsWith("ld-linux") ? join(root, "usr/lib64", name) : join(root, "usr/lib/x86_64-linux-gnu", name);
    if (!existsSync(dest)) await cp(lib, dest, { preserveTimestamps: true, dereference: true });
  }
  await copyFile(join(GUEST_DIR, "init.sh"), join(root, "usr/sbin/init"));
  await chmod(join(root, "usr/sbin/init"), 0o755);
  await copyFile(join(GUEST_DIR, "agent.py"), join(root, "usr/lib/kiln/agent.py"));
  await writeFile(join(root, "etc/passwd"), "root:x:0:0:root:/:/bin/sh\nsbx_user1051:x:993:993::/tmp:/sbin/nologin\n");
  await writeFile(join(root, "etc/group"), "root:x:0:\nsbx_user1051:x:993:\n");
  await writeFile(join(root, "etc/hosts"), "127.0.0.1 localhost\n");
  await writeFile(join(root, "etc/hostname"), "sandbox\n");
  // Generated entries and every directory: mtime 0 (copied files keep their package mtimes).
  await normalizeTimes(root, ["usr/sbin/init", "usr/lib/kiln/agent.py", "usr/bin/busybox", "etc"]);
}

async function normalizeTimes(root: string, generated: string[]): Promise<void> {
  const gen = new Set(generated.map((g) => join(root, g)));
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isSymbolicLink() || gen.has(p) || gen.has(dirname(p))) await lutimes(p, 0, 0);
    }
    await lutimes(d, 0, 0);
  };
  await walk(root);
}

/** Bytes a directory tree needs, rounded per 4 KiB block, plus inodes. */
async function treeSize(dir: string): Promise<{ bytes: number; inodes: number }> {
  let bytes = 0;
  let inodes = 0;
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      inodes++;
      if (e.isDirectory()) {
        bytes += 4096;
        await walk(p);
      } else if (e.isSymbolicLink()) {
        bytes += (await readlink(p)).length > 59 ? 4096 : 0;
      } else {
        bytes += Math.ceil((await lstat(p)).size / 4096) * 4096;
      }
    }
  };
  await walk(dir);
  return { bytes, inodes };
}

export interface MkfsOptions {
  uuid?: string;
  label?: string;
  /** Extra room in MB beyond the contents (default 8). */
  slackMB?: number;
  /** Exact size in MB (writable disks); default: the contents plus slack. */
  sizeMB?: number;
  /** Owner of the root directory (default 0:0). */
  rootOwner?: string;
  journal?: boolean;
}

/**
 * `mkfs.ext4 -d dir` into `out` (no mounting), reproducibly: fixed UUID and hash seed, fake time,
 * no journal unless asked. Without `dir`, an empty file system (writable scratch disks).
 */
export async function mkfsFromDir(dir: string | undefined, out: string, o: MkfsOptions = {}): Promise<void> {
  const uuid = o.uuid ?? ROOT_UUID;
  let sizeMB = o.sizeMB;
  let inodes: number | undefined;
  if (sizeMB === undefined) {
    const t = dir ? await treeSize(dir) : { bytes: 0, inodes: 0 };
    sizeMB = Math.ceil((t.bytes * 1.1) / (1 << 20)) + (o.slackMB ?? 8);
    inodes = t.inodes + 64;
  }
  await rm(out, { force: true });
  const ext = [`hash_seed=${uuid}`, `root_owner=${o.rootOwner ?? "0:0"}`, "lazy_itable_init=1", "nodiscard"];
  const args = ["-q", "-F", "-t", "ext4", "-b", "4096", "-m", "0", "-U", uuid, "-E", ext.join(","), "-O", o.journal ? "^metadata_csum_seed" : "^has_journal"];
  if (inodes !== undefined) args.push("-N", String(inodes));
  if (o.label) args.push("-L", o.label);
  if (dir) args.push("-d", dir);
  args.push(out, `${sizeMB}M`);
  const env = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", E2FSPROGS_FAKE_TIME: String(FAKE_TIME), SOURCE_DATE_EPOCH: String(FAKE_TIME) };
  await run("mkfs.ext4", args, { env });
  if (dir) await normalizeInodes(dir, out, env);
}

/**
 * `mkfs.ext4 -d` copies each file's ctime and atime from the staging tree, which no one can set:
 * one debugfs pass sets both (and their nanoseconds) to FAKE_TIME on every inode, and drops
 * lost+found (a read-only image never needs it; Lambda's /var/task has none).
 */
async function normalizeInodes(dir: string, image: string, env: NodeJS.ProcessEnv): Promise<void> {
  const cmds: string[] = ["rmdir /lost+found"];
  const quote = (p: string) => `"${p.replace(/(["\\])/g, "\\$1")}"`;
  const add = (p: string) => {
    for (const f of ["ctime", "atime"]) cmds.push(`sif ${quote(p)} ${f} ${FAKE_TIME}`, `sif ${quote(p)} ${f}_extra 0`);
  };
  add("/");
  const walk = async (d: string, rel: string): Promise<void> => {
    for (const e of (await readdir(d, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      add(`${rel}/${e.name}`);
      if (e.isDirectory()) await walk(join(d, e.name), `${rel}/${e.name}`);
    }
  };
  await walk(dir, "");
  const script = `${image}.debugfs`;
  await writeFile(script, cmds.join("\n") + "\n");
  try {
    await run("debugfs", ["-w", "-f", script, image], { env });
  } finally {
    await rm(script, { force: true });
  }
}
