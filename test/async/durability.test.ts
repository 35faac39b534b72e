/**
 * Durability of asynchronous invocations: `kill -9` of the server while events are being accepted
 * and run, a restart on the same data dir, and then every event that got its 202 has run at
 * least once, with the request id it was given. An event runs twice only if it was in flight at
 * the kill, and such redeliveries are counted: duplicates never exceed the Redelivered counter.
 *
 * How executions are seen: the handler appends "<n> <request id>" to a file in its sandbox's
 * /tmp (a plain file write survives the server's death), which this test reads from the data dir
 * (sandboxes/<id>/tmp/ran.log) before the restart wipes it, and again at the end.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { CreateFunctionCommand, InvokeCommand, LambdaClient, waitUntilFunctionActiveV2 } from "@aws-sdk/client-lambda";
import { zipFiles } from "../../src/artifacts/index.js";
import { ROLE, ROOT_KEY } from "../support/kiln.js";
import { exited, startServerProcess } from "../support/server-process.js";
import { signedFetch } from "../support/signed-fetch.js";

const BEFORE_KILL = 1500;
const TOTAL = 3000;
const SENDERS = 16;

const HANDLER = `
import { appendFileSync } from "node:fs";
const file = (process.env.TMPDIR || "/tmp") + "/ran.log";
export const handler = async (event, context) => {
  appendFileSync(file, event.n + " " + context.awsRequestId + "\\n");
  return "ok";
};`;

interface Server {
  child: ChildProcess;
  url: string;
  client: LambdaClient;
}

async function startServer(dataDir: string): Promise<Server> {
  const { child, url } = await startServerProcess(dataDir, { KILN_ASYNC_POLLERS: "8" });
  return { child, url, client: new LambdaClient({ endpoint: url, region: "us-east-1", credentials: ROOT_KEY, maxAttempts: 1 }) };
}

/** Every "<n> <request id>" line the sandboxes of this data dir wrote. */
function executions(dataDir: string): Array<{ n: number; requestId: string }> {
  const root = join(dataDir, "sandboxes");
  if (!existsSync(root)) return [];
  const out: Array<{ n: number; requestId: string }> = [];
  for (const id of readdirSync(root)) {
    const file = join(root, id, "tmp", "ran.log");
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, "utf8").split("\n")) {
      const m = /^(\d+) (\S+)$/.exec(line);
      if (m) out.push({ n: Number(m[1]), requestId: m[2]! });
    }
  }
  return out;
}

/** Sends events {n} from SENDERS concurrent clients until `until()` or the server stops answering. */
async function send(s: Server, next: { n: number }, accepted: Map<number, string>, until: () => boolean): Promise<void> {
  await Promise.all(
    Array.from({ length: SENDERS }, async () => {
      while (!until()) {
        const n = next.n++;
        try {
          const r = await s.client.send(new InvokeCommand({ FunctionName: "durable", InvocationType: "Event", Payload: Buffer.from(JSON.stringify({ n })) }));
          if (r.StatusCode === 202) accepted.set(n, r.$metadata.requestId!);
        } catch {
          return; // the server is gone: this event was not accepted
        }
      }
    }),
  );
}

test("kill -9 while events are accepted and running: after a restart every accepted event has run, duplicates only for redeliveries", { timeout: 240_000 }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), "kiln-async-crash-"));
  const accepted = new Map<number, string>();
  const next = { n: 0 };
  let second: Server | undefined;
  try {
    const first = await startServer(dataDir);
    await first.client.send(new CreateFunctionCommand({ FunctionName: "durable", Runtime: "nodejs20.x", Handler: "index.handler", Role: ROLE, Code: { ZipFile: await zipFiles({ "index.mjs": HANDLER }) } }));
    await waitUntilFunctionActiveV2({ client: first.client, maxWaitTime: 30, minDelay: 1 }, { FunctionName: "durable" });

    const started = performance.now();
    let killed = false;
    const sending = send(first, next, accepted, () => killed);
    while (accepted.size < BEFORE_KILL) await new Promise((r) => setTimeout(r, 5));
    first.child.kill("SIGKILL");
    killed = true;
    const acceptedAtKill = accepted.size;
    const rate = acceptedAtKill / ((performance.now() - started) / 1000);
    await sending;
    await exited(first.child);
    first.client.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const beforeRestart = executions(dataDir);
    // Usually hundreds are still queued or running here; the checks below hold either way.
    t.diagnostic(`accepted ${acceptedAtKill} events before kill -9 (${rate.toFixed(0)}/s while running them); ${beforeRestart.length} had run`);

    const db = new Database(join(dataDir, "async.db"), { readonly: true });
    assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
    db.close();

    second = await startServer(dataDir);
    await send(second, next, accepted, () => accepted.size >= TOTAL);
    const drainStart = performance.now();
    const ran = new Map<number, string[]>();
    const tally = () => {
      ran.clear();
      for (const e of [...beforeRestart, ...executions(dataDir)]) ran.set(e.n, [...(ran.get(e.n) ?? []), e.requestId]);
    };
    for (;;) {
      tally();
      if ([...accepted.keys()].every((n) => ran.has(n))) break;
      if (performance.now() - drainStart > 120_000) {
        const missing = [...accepted.keys()].filter((n) => !ran.has(n));
        assert.fail(`${missing.length} accepted events never ran, e.g. ${missing.slice(0, 10).join(", ")}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    // Let anything still in flight finish, so the duplicate count is final.
    let stats: { Queue: { Depth: number }; Metrics: Record<string, number> } | undefined;
    for (let i = 0; i < 300; i++) {
      const r = await signedFetch(second.url, { method: "GET", path: "/kiln/2026-01-01/functions/durable/async-stats" });
      stats = r.json() as typeof stats;
      if (stats!.Queue.Depth === 0) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    tally();
    for (const [n, rid] of accepted) assert.ok(ran.get(n)!.includes(rid), `event ${n} ran with the request id its 202 carried`);
    const duplicates = [...ran.values()].reduce((sum, ids) => sum + ids.length - 1, 0);
    const redelivered = stats!.Metrics.Redelivered!;
    t.diagnostic(
      `accepted ${accepted.size} in all; executions ${[...ran.values()].reduce((s, ids) => s + ids.length, 0)}; duplicates ${duplicates}; redelivered (counted) ${redelivered}; received ${stats!.Metrics.AsyncEventsReceived}`,
    );
    assert.equal(stats!.Queue.Depth, 0);
    assert.ok(duplicates <= redelivered, `${duplicates} duplicate executions but only ${redelivered} counted redeliveries`);
    assert.ok(stats!.Metrics.AsyncEventsReceived! >= accepted.size);
  } finally {
    if (second) {
      second.client.destroy();
      second.child.kill("SIGTERM");
      await exited(second.child);
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
});
