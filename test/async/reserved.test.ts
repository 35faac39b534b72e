/**
 * Reserved concurrency applies to asynchronous work: a function reserved at 1 runs its queued
 * events one at a time (the others wait in the queue, throttled and backed off, never dropped),
 * and its backlog does not hold up another function's events.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { InvokeCommand, PutFunctionConcurrencyCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import { startKiln, type TestKiln } from "../support/kiln.js";
import { asyncStats, tagged, waitFor } from "./support.js";

const CODE = {
  "index.mjs": `
export const limited = async (event) => {
  const start = Date.now();
  await new Promise((r) => setTimeout(r, event.ms));
  console.log("SPAN " + JSON.stringify({ start, end: Date.now(), i: event.i }));
  return "ok";
};
export const free = async (event) => { console.log("FREE " + JSON.stringify(event)); return "ok"; };
`,
};

let k: TestKiln;
let c: LambdaClient;

before(async () => {
  k = await startKiln({}, undefined, { async: { pollers: 4, retryDelaysMs: [300, 600], backoffBaseMs: 100, backoffMaxMs: 1000, rescanMs: 1000 } });
  c = k.client();
  await Promise.all([k.deploy("limited", "nodejs20.x", "index.limited", CODE), k.deploy("free", "nodejs20.x", "index.free", CODE)]);
  await c.send(new PutFunctionConcurrencyCommand({ FunctionName: "limited", ReservedConcurrentExecutions: 1 }));
});
after(async () => k.stop());

test("a function reserved at 1 runs its events one at a time while another function's events flow", { timeout: 120_000 }, async () => {
  await c.send(new InvokeCommand({ FunctionName: "free", Payload: Buffer.from("{}") })); // warm, so a cold start does not decide the race
  const send = (fn: string, payload: unknown) => c.send(new InvokeCommand({ FunctionName: fn, InvocationType: "Event", Payload: Buffer.from(JSON.stringify(payload)) }));
  for (let i = 0; i < 8; i++) assert.equal((await send("limited", { ms: 300, i })).StatusCode, 202);
  for (let i = 0; i < 4; i++) assert.equal((await send("free", { i })).StatusCode, 202);

  await waitFor("the free function's events", async () => (await asyncStats(k, "free")).Metrics.Succeeded === 4, 30_000);
  const mid = await asyncStats(k, "limited");
  assert.ok(mid.Queue.Depth >= 3, `the free function finished while the reserved one still held ${mid.Queue.Depth} of 8 events`);

  const done = await waitFor("the reserved function's events", async () => {
    const s = await asyncStats(k, "limited");
    return s.Metrics.Succeeded === 8 ? s : undefined;
  }, 60_000);
  assert.equal(done.Metrics.AsyncEventsDropped, 0, "throttled events wait, they are not dropped");
  assert.ok(done.Metrics.Throttles >= 1, "the pollers met the reservation");
  const spans = (await tagged(k, "limited", "SPAN")).map((l) => l.body as { start: number; end: number; i: number }).sort((a, b) => a.start - b.start);
  assert.deepEqual(spans.map((s) => s.i).sort(), [0, 1, 2, 3, 4, 5, 6, 7]);
  for (let i = 1; i < spans.length; i++) assert.ok(spans[i]!.start >= spans[i - 1]!.end, `events ${spans[i - 1]!.i} and ${spans[i]!.i} ran at the same time`);
});
