#!/usr/bin/env node
// Runs the compiled tests with node's test runner.
//
//   node scripts/run-tests.mjs [--unit] [--flag=value ...] [filter ...]
//
// Flags go to `node --test` as they are (write them as --flag=value, e.g. --test-name-pattern=deploy);
// other arguments keep only the test files whose path contains one of them (e.g. `cli`).
//
// Unit tests (dist/src/**/*.test.js) run first, in parallel (those starting NATS servers or VMs
// one file at a time); then the end-to-end tests
// (dist/test/**/*.test.js) one file at a time, because each starts a real server with real
// sandboxes. --unit runs only the former. Node 20's --test does not expand globs, so the files
// are listed here. Exits non-zero if either run failed.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const unitOnly = args.includes("--unit");
const forwarded = args.filter((a) => a !== "--unit" && a.startsWith("-"));
const filters = args.filter((a) => !a.startsWith("-"));

function testFiles(dir) {
  const found = [];
  const walk = (d) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".test.js")) found.push(relative(ROOT, p));
    }
  };
  walk(join(ROOT, dir));
  return found.filter((f) => filters.length === 0 || filters.some((x) => f.includes(x))).sort();
}

if (!existsSync(join(ROOT, "dist"))) {
  process.stderr.write("run-tests: dist/ is missing: run `npm run build` first (`npm test` does both)\n");
  process.exit(1);
}

// Unit tests that start their own NATS servers (or virtual machines) run one file at a time:
// a dozen nats-server clusters at once on a 2-core machine miss their own timeouts.
const heavy = (f) => /[\\/](nats|cluster|microvm)[\\/]/.test(f);
const unitFiles = testFiles("dist/src");
const runs = [
  { label: "unit tests", files: unitFiles.filter((f) => !heavy(f)), flags: [] },
  { label: "unit tests with NATS servers or VMs", files: unitFiles.filter(heavy), flags: ["--test-concurrency=1"] },
];
if (!unitOnly) runs.push({ label: "end-to-end tests", files: testFiles("dist/test"), flags: ["--test-concurrency=1"] });

let exitCode = 0;
for (const { label, files, flags } of runs) {
  if (files.length === 0) {
    process.stdout.write(`run-tests: no ${label} found\n`);
    continue;
  }
  process.stdout.write(`run-tests: ${label} (${files.length} file${files.length === 1 ? "" : "s"})\n`);
  const r = spawnSync(process.execPath, ["--test", "--test-reporter=spec", ...flags, ...forwarded, ...files], {
    cwd: ROOT,
    stdio: "inherit",
    // The AWS SDK warns once per process that its 2027 releases need Node 22: noise in test output.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", ...process.env },
  });
  const code = r.status ?? 1;
  if (r.error) process.stderr.write(`run-tests: ${r.error.message}\n`);
  if (code !== 0 && exitCode === 0) exitCode = code;
}
process.exit(exitCode);
