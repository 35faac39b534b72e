/**
 * The guest image pipeline: the shared cache is reused (a lookup, not a build), and a build from
 * scratch into another cache gives byte-identical files (reproducible: same inputs, same hash).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureGuestImage } from "../../src/images/index.js";

test("the image is cached by input hash and rebuilt byte for byte", async (t) => {
  const progress = (l: string) => process.stderr.write(l + "\n");
  const shared = await ensureGuestImage({ progress });
  const again = await ensureGuestImage();
  assert.equal(again.built, false);
  assert.equal(again.hash, shared.hash);
  t.diagnostic(`cached image lookup ${again.buildMs.toFixed(0)} ms (${shared.built ? `built in ${(shared.buildMs / 1000).toFixed(1)} s` : "was cached"})`);
  const scratch = await mkdtemp(join(tmpdir(), "kiln-image-repro-"));
  try {
    const fresh = await ensureGuestImage({ cacheDir: scratch });
    assert.equal(fresh.built, true);
    assert.deepEqual(fresh.files, shared.files, "same inputs, same bytes");
    assert.equal(fresh.hash, shared.hash);
    t.diagnostic(`image build from scratch ${(fresh.buildMs / 1000).toFixed(1)} s; hash ${fresh.hash.slice(0, 16)}; rootfs ${(fresh.files["rootfs.ext4"]!.bytes / 1048576).toFixed(0)} MB, initrd ${(fresh.files["initrd.cpio"]!.bytes / 1048576).toFixed(1)} MB`);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
});
