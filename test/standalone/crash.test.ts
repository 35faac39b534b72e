/**
 * Durability of the standalone server: `kill -9` in the middle of a burst of CreateFunction calls
 * loses nothing that was acknowledged and corrupts nothing; a restart finishes interrupted
 * state transitions and serves every function.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { CreateFunctionCommand, GetFunctionCommand, InvokeCommand, LambdaClient, waitUntilFunctionActiveV2 } from "@aws-sdk/client-lambda";
import { zipFiles } from "../../src/artifacts/index.js";
import { ROLE, ROOT_KEY } from "../support/kiln.js";
import { startServerProcess } from "../support/server-process.js";

const startServer = (dataDir: string) => startServerProcess(dataDir, { KILN_LOG_LEVEL: "warn" });

test("kill -9 during a burst of creates: every acknowledged function survives, the database is intact", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "kiln-crash-"));
  const zip = await zipFiles({ "index.mjs": "export const handler = async (e) => ({ survived: e.n });" });
  const first = await startServer(dataDir);
  const client = new LambdaClient({ endpoint: first.url, region: "us-east-1", credentials: ROOT_KEY, maxAttempts: 1 });
  const acknowledged: string[] = [];
  let stop = false;
  const creators = Array.from({ length: 4 }, async (_, w) => {
    for (let i = 0; !stop; i++) {
      const name = `crash-${w}-${i}`;
      try {
        await client.send(new CreateFunctionCommand({ FunctionName: name, Runtime: "nodejs20.x", Handler: "index.handler", Role: ROLE, Code: { ZipFile: zip } }));
        acknowledged.push(name);
      } catch {
        return;
      }
    }
  });
  while (acknowledged.length < 20) await new Promise((r) => setTimeout(r, 20));
  first.child.kill("SIGKILL");
  stop = true;
  await Promise.all(creators);
  client.destroy();
  await new Promise((r) => first.child.exitCode !== null || first.child.signalCode !== null ? r(undefined) : first.child.once("exit", r));

  const db = new Database(join(dataDir, "kiln.db"));
  assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
  db.close();

  const second = await startServer(dataDir);
  const c2 = new LambdaClient({ endpoint: second.url, region: "us-east-1", credentials: ROOT_KEY, maxAttempts: 1 });
  try {
    for (const name of acknowledged) {
      await waitUntilFunctionActiveV2({ client: c2, maxWaitTime: 20, minDelay: 1 }, { FunctionName: name });
      const got = await c2.send(new GetFunctionCommand({ FunctionName: name }));
      assert.equal(got.Configuration?.State, "Active", name);
    }
    const last = acknowledged[acknowledged.length - 1]!;
    const r = await c2.send(new InvokeCommand({ FunctionName: last, Payload: Buffer.from('{"n":7}') }));
    assert.deepEqual(JSON.parse(Buffer.from(r.Payload!).toString()), { survived: 7 });
  } finally {
    c2.destroy();
    second.child.kill("SIGTERM");
    await new Promise((r) => second.child.once("exit", r));
    rmSync(dataDir, { recursive: true, force: true });
  }
});
