/**
 * An environment that is gone before the invocation reaches it (its worker died or dropped it)
 * costs the caller nothing: the frontend takes another one. An invocation that may have started
 * is never run twice: it fails with a retryable ServiceException.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogger, KilnError } from "../base/index.js";
import { AssignmentService } from "../assignment/index.js";
import { ConcurrencyLedger } from "../counting/index.js";
import { testRegistry } from "../control/registry.test-support.js";
import type { EnvironmentSpec, InvocationOutcome } from "../worker/index.js";
import { FrontendInvokeService, InvocationNotStartedError, type InvokeTarget } from "./invoke.js";

async function setup(invoke: InvokeTarget["invoke"]) {
  const t = await testRegistry();
  const created: string[] = [];
  const destroyed: string[] = [];
  const assignment = new AssignmentService<EnvironmentSpec>({
    clock: t.clock,
    keepAliveMs: 60_000,
    log: createLogger("test", "error"),
    fleet: {
      loads: () => [{ id: "w", state: "active", totalMemoryMB: 10_000, freeMemoryMB: 10_000, runningSandboxes: 0, cpu: 0, sandboxesOf: () => 0, sandboxesOfAccount: () => 0 }],
      createEnvironment: async (_w, id) => void created.push(id),
      destroyEnvironment: async (_w, id) => void destroyed.push(id),
    },
  });
  const frontend = new FrontendInvokeService({
    registry: t.registry,
    ledger: new ConcurrencyLedger(() => 1000),
    assignment,
    workers: { invoke },
    codeDir: () => "/nonexistent",
    region: "us-east-1",
    clock: t.clock,
    log: createLogger("test", "error"),
  });
  await t.create("f");
  return { t, frontend, created, destroyed };
}

const ok: InvocationOutcome = { payload: Buffer.from('"ok"'), logTail: Buffer.alloc(0), healthy: true, durationMs: 1 };

test("an environment gone before the invocation started: another one takes it", async () => {
  let calls = 0;
  const s = await setup(async () => {
    if (++calls === 1) throw new InvocationNotStartedError("environment e1 is gone");
    return ok;
  });
  const r = await s.frontend.invoke({ accountId: "000000000000", functionName: "f", payload: Buffer.from("{}") });
  assert.equal(r.payload.toString(), '"ok"');
  assert.equal(calls, 2);
  assert.equal(s.created.length, 2, "a second environment was created");
  assert.deepEqual(s.destroyed, [s.created[0]], "the gone one was dropped");
  await s.t.close();
});

test("a lost invocation that may have started is not run again: ServiceException", async () => {
  let calls = 0;
  const s = await setup(async () => {
    calls++;
    throw new Error("worker w1 was lost during the invocation");
  });
  await assert.rejects(
    s.frontend.invoke({ accountId: "000000000000", functionName: "f", payload: Buffer.from("{}") }),
    (e: unknown) => e instanceof KilnError && e.code === "ServiceException" && /Kiln lost the execution environment: worker w1 was lost/.test(e.message),
  );
  assert.equal(calls, 1);
  await s.t.close();
});

test("environments that keep vanishing: the caller gets a ServiceException after a bounded number of tries", async () => {
  let calls = 0;
  const s = await setup(async () => {
    calls++;
    throw new InvocationNotStartedError("gone");
  });
  await assert.rejects(s.frontend.invoke({ accountId: "000000000000", functionName: "f", payload: Buffer.from("{}") }), (e: unknown) => e instanceof KilnError && e.code === "ServiceException");
  assert.equal(calls, 3);
  await s.t.close();
});
