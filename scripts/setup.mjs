#!/usr/bin/env node
// Makes a fresh clone runnable: npm dependencies, system packages, build. Fast when nothing is to do.
// Plain Node with no dependencies: it runs before `npm install`.
//
//   node scripts/setup.mjs          what `npm start` needs: bwrap (bubblewrap), socat
//   node scripts/setup.mjs --test   plus what `npm test` needs: /usr/bin/aws (awscli), /usr/bin/python3.11, nats-server
//
// Missing system packages are installed with apt-get when running as root on Debian/Ubuntu;
// otherwise it prints the command to run and exits 1. Without --test, a missing bwrap is
// tolerated when KILN_ISOLATION=none (the server then runs functions without isolation).
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, readdirSync, statSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const forTests = process.argv.includes("--test");
const say = (msg) => process.stdout.write(`setup: ${msg}\n`);
const fail = (msg) => {
  process.stderr.write(`setup: ${msg}\n`);
  process.exit(1);
};

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

function run(cmd, args, extraEnv = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: "inherit", env: { ...process.env, ...extraEnv } });
  if (r.error) fail(`could not run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`\`${[cmd, ...args].join(" ")}\` failed (exit ${r.status ?? r.signal})`);
}

// 0. Node itself.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 20 || (major === 20 && minor < 11)) fail(`Kiln needs Node.js 20.11 or newer; this is ${process.version}`);

// 1. npm dependencies: install when node_modules is missing or older than package.json / the lockfile.
{
  const marker = join(ROOT, "node_modules", ".package-lock.json");
  const installed = mtime(marker);
  const lockfile = existsSync(join(ROOT, "package-lock.json"));
  const newest = Math.max(mtime(join(ROOT, "package.json")) ?? 0, (lockfile && mtime(join(ROOT, "package-lock.json"))) || 0);
  if (installed === undefined || newest > installed) {
    const cmd = lockfile ? "ci" : "install";
    say(`installing npm dependencies (npm ${cmd}); better-sqlite3 compiles from source here, which takes about 90 s…`);
    run("npm", [cmd, "--no-fund", "--no-audit"]);
    // npm may write package-lock.json after its marker; mark "installed now" so the next run skips this.
    if (existsSync(marker)) {
      const now = new Date();
      utimesSync(marker, now, now);
    }
    say("npm dependencies installed");
  } else {
    say("npm dependencies up to date");
  }
}

// 2. System packages.
{
  const onPath = (name) =>
    (process.env.PATH ?? "").split(delimiter).some((dir) => {
      if (!dir) return false;
      try {
        accessSync(join(dir, name), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
  const isExecutable = (path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  const wanted = [
    { what: "bwrap", pkg: "bubblewrap", present: () => onPath("bwrap") },
    { what: "socat", pkg: "socat", present: () => onPath("socat") },
  ];
  if (forTests) {
    wanted.push({ what: "/usr/bin/aws", pkg: "awscli", present: () => isExecutable("/usr/bin/aws") });
    wanted.push({ what: "/usr/bin/python3.11", pkg: "python3.11", present: () => isExecutable("/usr/bin/python3.11") });
    // The cluster tests start their own NATS servers (cluster mode runs on NATS JetStream).
    wanted.push({ what: "nats-server", pkg: "nats-server", present: () => onPath("nats-server") || isExecutable("/usr/sbin/nats-server") });
    // The microvm driver's tests: QEMU (TCG here), the guest image pipeline's tools.
    wanted.push({ what: "qemu-system-x86_64", pkg: "qemu-system-x86", present: () => isExecutable("/usr/bin/qemu-system-x86_64") });
    wanted.push({ what: "/usr/sbin/mkfs.ext4", pkg: "e2fsprogs", present: () => isExecutable("/usr/sbin/mkfs.ext4") });
    wanted.push({ what: "/bin/busybox (static)", pkg: "busybox-static", present: () => isExecutable("/bin/busybox") });
  }
  let missing = wanted.filter((w) => !w.present());
  if (missing.length > 0) {
    const isRoot = process.getuid?.() === 0;
    const hasApt = onPath("apt-get");
    const names = missing.map((m) => `${m.pkg} (${m.what})`).join(", ");
    if (isRoot && hasApt) {
      say(`installing system packages: ${names}`);
      run("apt-get", ["update"]);
      run("apt-get", ["install", "-y", ...missing.map((m) => m.pkg)], { DEBIAN_FRONTEND: "noninteractive" });
      missing = missing.filter((m) => !m.present());
      if (missing.length > 0) fail(`still missing after apt-get install: ${missing.map((m) => m.what).join(", ")}`);
    } else {
      const isolationNone = process.env.KILN_ISOLATION === "none";
      const blocking = missing.filter((m) => forTests || !(m.what === "bwrap" && isolationNone));
      if (blocking.length > 0) {
        const pkgs = blocking.map((m) => m.pkg).join(" ");
        const lines = [`missing system packages: ${blocking.map((m) => `${m.pkg} (${m.what})`).join(", ")}.`];
        if (hasApt) lines.push(`Install them with:\n\n    ${isRoot ? "" : "sudo "}apt-get install -y ${pkgs}\n`);
        else lines.push(`Install them with your system's package manager (Debian/Ubuntu: sudo apt-get install -y ${pkgs}).`);
        if (!forTests && blocking.every((m) => m.what === "bwrap" || m.what === "socat") && blocking.some((m) => m.what === "bwrap")) {
          lines.push("Or, only on a machine where isolation does not matter, run without sandboxes: KILN_ISOLATION=none npm start");
        }
        fail(lines.join("\n"));
      }
      say("bwrap is missing; continuing because KILN_ISOLATION=none (functions will run WITHOUT isolation)");
    }
  }
  const present = wanted.filter((w) => w.present()).map((w) => w.what);
  say(`system packages ok (${present.join(", ")})`);
}

// 3. Build: when dist/ is missing or a source or tsconfig is newer than the stamp of the last build.
{
  const dist = join(ROOT, "dist");
  const stamp = join(dist, ".build-stamp");
  const built = mtime(stamp);
  const newestSource = () => {
    let newest = 0;
    const walk = (dir) => {
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        if (e.name === "node_modules" || e.name.startsWith(".")) continue;
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else newest = Math.max(newest, mtime(p) ?? 0);
      }
      // Deleting or renaming a file changes only its directory's time.
      newest = Math.max(newest, mtime(dir) ?? 0);
    };
    for (const d of ["src", "test", "bench"]) walk(join(ROOT, d));
    for (const f of readdirSync(ROOT)) if (/^tsconfig.*\.json$/.test(f)) newest = Math.max(newest, mtime(join(ROOT, f)) ?? 0);
    return newest;
  };
  if (built === undefined || newestSource() > built) {
    say("building…");
    const started = new Date();
    run("npm", ["run", "build", "--silent"]);
    pruneStaleOutput(dist);
    writeFileSync(stamp, `${started.toISOString()}\n`);
    utimesSync(stamp, started, started); // edits made during the build trigger the next one
    say("built");
  } else {
    say("build up to date");
  }
}

/**
 * Removes tsc output (a .js with its .js.map) whose TypeScript source is gone, so a deleted test
 * does not keep running from dist/. Files that tsc did not write (no .js.map) are left alone.
 */
function pruneStaleOutput(dist) {
  const walk = (dir) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        walk(p);
        continue;
      }
      const m = /^(.*)\.js\.map$/.exec(e.name);
      if (!m) continue;
      if (existsSync(join(ROOT, relative(dist, dir), `${m[1]}.ts`))) continue;
      unlinkSync(p);
      if (existsSync(join(dir, `${m[1]}.js`))) unlinkSync(join(dir, `${m[1]}.js`));
    }
  };
  for (const d of ["src", "test", "bench"]) walk(join(dist, d));
}
