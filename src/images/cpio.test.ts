import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeCpio } from "./cpio.js";

test("writeCpio() output is unpacked by GNU cpio exactly, and is the same bytes every time", (t) => {
  const entries = [
    { kind: "dir", path: "bin" },
    { kind: "file", path: "bin/init", data: Buffer.from("#!/bin/sh\necho hi\n"), mode: 0o755 },
    { kind: "file", path: "odd", data: Buffer.from("x") },
    { kind: "symlink", path: "sbin", target: "bin" },
  ] as const;
  const a = writeCpio(entries);
  assert.deepEqual(a, writeCpio(entries));
  if (spawnSync("cpio", ["--version"]).status !== 0) return t.skip("no cpio here");
  const dir = mkdtempSync(join(tmpdir(), "kiln-cpio-"));
  try {
    writeFileSync(join(dir, "a.cpio"), a);
    const r = spawnSync("sh", ["-c", "mkdir out && cd out && cpio -idm --quiet < ../a.cpio"], { cwd: dir });
    assert.equal(r.status, 0, r.stderr.toString());
    assert.equal(readFileSync(join(dir, "out/bin/init"), "utf8"), "#!/bin/sh\necho hi\n");
    assert.equal(statSync(join(dir, "out/bin/init")).mode & 0o777, 0o755);
    assert.equal(readFileSync(join(dir, "out/odd"), "utf8"), "x");
    assert.equal(readlinkSync(join(dir, "out/sbin")), "bin");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
