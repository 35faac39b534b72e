/**
 * Hostile zips: path traversal, absolute paths, symlink escapes, writes through symlinks, zip
 * bombs honest and lying. Each must fail with the right error and leave the parent directory
 * exactly as it was, with nothing written anywhere else.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import yazl from "yazl";
import { craftZip, unicodePathExtra, withDeclaredSize, type CraftedEntry } from "./crafted-zip.test-support.js";
import { UNREADABLE_ZIP_MESSAGE } from "./errors.js";
import { extractZip } from "./extract.js";
import { kilnError, listing, scratchDir } from "./scratch.test-support.js";

const SYMLINK = 0o120777;
const unique = (): string => `kiln-test-${randomBytes(6).toString("hex")}`;

/** Extracts into <parent>/code and expects a refusal; the parent must be unchanged. */
async function assertRefused(zip: Buffer, message: RegExp | string, parent?: string): Promise<void> {
  const dir = parent ?? (await scratchDir());
  const before = await listing(dir);
  await assert.rejects(extractZip(zip, join(dir, "code")), kilnError("InvalidParameterValueException", message));
  assert.deepEqual(await listing(dir), before, "the parent directory is unchanged");
}

const refuse = (entries: CraftedEntry[], message: RegExp | string): Promise<void> => assertRefused(craftZip(entries), message);

test("refuses '..' traversal", async () => {
  const parent = await scratchDir();
  await assertRefused(craftZip([{ name: "ok.txt", data: "fine" }, { name: "../evil", data: "pwned" }]), /Zip entry "\.\.\/evil" is not allowed: "\.\." path segments/, parent);
  assert.equal(existsSync(join(parent, "evil")), false);
  await refuse([{ name: "a/b/../../../evil", data: "x" }], /"a\/b\/\.\.\/\.\.\/\.\.\/evil"/);
});

test("refuses absolute and drive-letter paths", async () => {
  const target = `/tmp/${unique()}`;
  await refuse([{ name: target, data: "x" }], new RegExp(`"${target}" is not allowed: absolute paths`));
  assert.equal(existsSync(target), false);
  await refuse([{ name: "C:/evil.txt", data: "x" }], /drive-letter/);
});

test("refuses backslash tricks and NUL bytes", async () => {
  await refuse([{ name: "..\\evil", data: "x" }], /"\.\.\\\\evil".*backslash/);
  await refuse([{ name: "a\\..\\..\\evil", data: "x" }], /backslash/);
  await refuse([{ name: "ok.txt\0../../evil", data: "x" }], /NUL byte/);
});

test("refuses an unsafe real name hidden in a Unicode Path extra field", async () => {
  await refuse([{ name: "safe.txt", extra: unicodePathExtra("safe.txt", "../evil"), data: "x" }], /"\.\.\/evil"/);
});

test("refuses a symlink to /etc and the entry written through it", async () => {
  const name = unique();
  await refuse(
    [
      { name: "etc", data: "/etc", mode: SYMLINK },
      { name: `etc/${name}`, data: "pwned" },
    ],
    /"etc\/kiln-test-[0-9a-f]+" is not allowed: its parent "etc" is a symlink/,
  );
  assert.equal(existsSync(`/etc/${name}`), false);
  // The link alone is refused for its target.
  await refuse([{ name: "etc", data: "/etc", mode: SYMLINK }], /"etc" is not allowed: it is a symlink to "\/etc", an absolute path/);
});

test("refuses a relative symlink out of the package and writes through it", async () => {
  const parent = await scratchDir();
  await mkdir(join(parent, "outside"));
  await assertRefused(
    craftZip([
      { name: "up", data: "../outside", mode: SYMLINK },
      { name: "up/evil", data: "pwned" },
    ]),
    /parent "up" is a symlink/,
    parent,
  );
  await assertRefused(craftZip([{ name: "lib/up", data: "../../outside", mode: SYMLINK }]), /points outside the package/, parent);
  await assertRefused(craftZip([{ name: "up", data: "..", mode: SYMLINK }]), /points outside the package/, parent);
  assert.deepEqual(await listing(join(parent, "outside")), []);
  // A file entry before the link of the same directory is refused too.
  await refuse(
    [
      { name: "x/evil", data: "pwned" },
      { name: "x", data: "/tmp", mode: SYMLINK },
    ],
    /"x" is not allowed: it conflicts with entry "x\/evil"/,
  );
});

test("refuses symlink chains that climb out through another symlink", async () => {
  await refuse(
    [
      { name: "d/root", data: "..", mode: SYMLINK },
      { name: "escape", data: "d/root/..", mode: SYMLINK },
    ],
    /"escape".*passes through another symlink \("d\/root"\)/,
  );
});

test("refuses duplicates, collisions and special files", async () => {
  await refuse(
    [
      { name: "a.txt", data: "1" },
      { name: "a.txt", data: "2" },
    ],
    /"a\.txt".*more than once/,
  );
  await refuse(
    [
      { name: "a", data: "1" },
      { name: "a/b", data: "2" },
    ],
    /"a\/b".*parent "a" is a file/,
  );
  await refuse([{ name: "fifo", mode: 0o010644 }], /"fifo".*unsupported file type/);
});

/** 251 MiB of zeros (1 MiB over the limit), deflated by yazl from a stream to about 250 KB. Built once. */
const BOMB_BYTES = 251 * 1024 * 1024;
let bomb: Promise<Buffer> | undefined;
function zipBomb(): Promise<Buffer> {
  bomb ??= new Promise((resolve, reject) => {
    const zip = new yazl.ZipFile();
    const chunk = Buffer.alloc(1024 * 1024);
    zip.addReadStream(Readable.from((function* () { for (let i = 0; i < BOMB_BYTES / chunk.length; i++) yield chunk; })()), "zeros.bin", { size: BOMB_BYTES });
    const parts: Buffer[] = [];
    zip.outputStream.on("data", (c: Buffer) => parts.push(c));
    zip.outputStream.on("end", () => resolve(Buffer.concat(parts)));
    zip.outputStream.on("error", reject);
    zip.end();
  });
  return bomb;
}

test("refuses a zip bomb by its size, before decompressing it", async () => {
  const zip = await zipBomb();
  assert.ok(zip.length < 1024 * 1024, `the bomb is small (${zip.length} bytes)`);
  await assertRefused(zip, "Unzipped size must be smaller than 262144000 bytes");
});

test("refuses a zip bomb whose headers lie about its size", async () => {
  // Claims 1 KiB; inflates to 251 MiB. The decompressed stream is cut off once it outgrows the
  // claim (yauzl) and would be at the limit regardless (the meter); the zip is corrupt.
  await assertRefused(withDeclaredSize(await zipBomb(), 0, 1024), UNREADABLE_ZIP_MESSAGE);
  // A lie under a lowered limit: the claim passes the declared-size check, the data does not.
  const small = craftZip([{ name: "a", data: Buffer.alloc(5000), declaredSize: 100 }]);
  const parent = await scratchDir();
  await assert.rejects(extractZip(small, join(parent, "code"), { maxUnzippedBytes: 1000 }), kilnError("InvalidParameterValueException", UNREADABLE_ZIP_MESSAGE));
  assert.deepEqual(await listing(parent), []);
});
