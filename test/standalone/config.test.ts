import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadServerConfig, ConfigError } from "../../src/base/index.js";
import { startStandalone } from "../../src/standalone/index.js";

test("a data dir the sandbox user cannot reach is refused at start with what to do", async () => {
  const locked = mkdtempSync(join(tmpdir(), "kiln-locked-"));
  mkdirSync(join(locked, "inner"), { mode: 0o755 });
  try {
    await assert.rejects(
      startStandalone(loadServerConfig({}, { port: 0, dataDir: join(locked, "inner", "data"), isolation: "process" }), { announce: false }),
      (e: unknown) => e instanceof ConfigError && /cannot reach the data dir/.test(e.message) && /chmod o\+x/.test(e.message),
    );
  } finally {
    rmSync(locked, { recursive: true, force: true });
  }
});

test("configuration is validated with messages naming the variable", () => {
  assert.throws(() => loadServerConfig({ KILN_PORT: "http" }), /KILN_PORT must be an integer/);
  assert.throws(() => loadServerConfig({ KILN_ISOLATION: "vm" }), /KILN_ISOLATION must be "process", "microvm" or "none"/);
  assert.throws(() => loadServerConfig({ KILN_ROOT_ACCESS_KEY_ID: "AKIA" }), /Set both/);
  assert.throws(() => loadServerConfig({ KILN_REGION: "moon" }), /is not a region name/);
  const c = loadServerConfig({});
  assert.equal(c.port, 9900);
  assert.equal(c.host, "127.0.0.1");
  assert.equal(c.region, "us-east-1");
});
