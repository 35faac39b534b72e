/**
 * Several processes storing the same package into one CodeStore root at once (a server and a
 * `kiln` CLI, or two workers): every put succeeds, one copy is kept, no temporaries remain.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { CodeStore, zipFiles } from "../../src/artifacts/index.js";

const run = promisify(execFile);
const ARTIFACTS = new URL("../../src/artifacts/index.js", import.meta.url).href;

const CHILD = `
  const { CodeStore } = await import(process.argv[1]);
  const { readFile } = await import("node:fs/promises");
  const store = await CodeStore.open(process.argv[2], { bootId: "shared-boot" });
  const stored = await store.put(await readFile(process.argv[3]));
  process.stdout.write(JSON.stringify(stored));
`;

test("concurrent puts of one zip from several processes keep one copy", async (t) => {
  const work = await mkdtemp(join(tmpdir(), "kiln-store-procs-"));
  t.after(() => rm(work, { recursive: true, force: true }));
  const files: Record<string, string> = {};
  for (let i = 0; i < 200; i++) files[`lib/module-${i}.js`] = `module.exports = ${i};\n`.repeat(50);
  const zip = await zipFiles(files);
  const zipFile = join(work, "upload.zip");
  await writeFile(zipFile, zip);
  const root = join(work, "store");

  const outputs = await Promise.all(
    Array.from({ length: 3 }, () => run(process.execPath, ["--input-type=module", "-e", CHILD, ARTIFACTS, root, zipFile])),
  );
  const results = outputs.map((o) => JSON.parse(o.stdout) as unknown);
  for (const r of results) assert.deepEqual(r, results[0]);

  const store = await CodeStore.open(root, { bootId: "shared-boot" });
  const stored = await store.get((results[0] as { sha256: string }).sha256);
  assert.deepEqual(stored, results[0]);
  assert.equal(stored?.files, 200);
  const hex = stored!.dir.split("/").pop()!;
  assert.deepEqual(await readdir(join(root, "unpacked")), [hex], "no staging or trash directories left");
  assert.deepEqual(await readdir(join(root, "zips")), [`${hex}.zip`]);
  assert.deepEqual(await readdir(join(root, "meta")), [`${hex}.json`]);
  assert.equal((await readdir(join(stored!.dir, "lib"))).length, 200);
  assert.equal(await readFile(join(stored!.dir, "lib/module-7.js"), "utf8"), "module.exports = 7;\n".repeat(50));
});
