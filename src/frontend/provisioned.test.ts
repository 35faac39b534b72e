import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogger } from "../base/index.js";
import type { AssignmentService, ProvisionedTarget } from "../assignment/index.js";
import type { EnvironmentSpec } from "../worker/index.js";
import { testRegistry } from "../control/registry.test-support.js";
import { ProvisionedConcurrencyKeeper } from "./provisioned.js";

const A = "000000000000";
const f = { name: "f" };

/** Records targets by version ("f/1" -> count) and reports every target as fully allocated. */
function fakeAssignment() {
  const targets = new Map<string, number>();
  const version = (configKey: string) => configKey.split("/").slice(1, 3).join("/");
  const assignment = {
    setProvisioned: (configKey: string, t: ProvisionedTarget<EnvironmentSpec> | undefined) => {
      if (t) targets.set(version(configKey), t.count);
      else targets.delete(version(configKey));
    },
    provisionedStatus: (configKey: string) => {
      const n = targets.get(version(configKey)) ?? 0;
      return { target: n, allocated: n, status: "READY" as const };
    },
  } as unknown as AssignmentService<EnvironmentSpec>;
  return { assignment, targets };
}

test("the worked example: an alias's environments follow its routing and move with it", async () => {
  const t = await testRegistry();
  try {
    const r = t.registry;
    await t.create("f", "v1");
    for (const code of ["v2", "v3"]) {
      await r.versions.publish(A, f, {});
      await r.updateCode(A, f, { zipFile: Buffer.from(code), dryRun: false, publish: false });
      await r.settled();
    }
    await r.versions.publish(A, f, {});
    const { assignment, targets } = fakeAssignment();
    const specs: EnvironmentSpec[] = [];
    const keeper = new ProvisionedConcurrencyKeeper({
      registry: r,
      assignment,
      spec: (fn) => {
        const s = { version: fn.executedVersion } as EnvironmentSpec;
        specs.push(s);
        return s;
      },
      log: createLogger("t", "error"),
    });
    await r.aliases.create(A, f, { Name: "live", FunctionVersion: "2", RoutingConfig: { AdditionalVersionWeights: { "3": 0.25 } } });
    await r.concurrency.putProvisioned(A, f, "live", 4);
    await keeper.refresh(A, "f");
    assert.deepEqual(Object.fromEntries(targets), { "f/2": 3, "f/3": 1 });
    assert.deepEqual(keeper.status(A, "f", "live"), { allocated: 4, status: "READY" });
    assert.deepEqual(keeper.status(A, "f", "1"), { allocated: 0, status: "IN_PROGRESS" }, "no configuration on version 1");

    await r.aliases.update(A, f, "live", { FunctionVersion: "3", RoutingConfig: {} });
    await keeper.refresh(A, "f");
    assert.deepEqual(Object.fromEntries(targets), { "f/3": 4 }, "version 2's environments are no longer provisioned");

    await r.concurrency.putProvisioned(A, f, "1", 2);
    await keeper.refresh(A, "f");
    assert.deepEqual(Object.fromEntries(targets), { "f/3": 4, "f/1": 2 });
    await r.delete(A, f);
    await keeper.refresh(A, "f");
    assert.deepEqual(Object.fromEntries(targets), {}, "a deleted function keeps nothing provisioned");
  } finally {
    await t.close();
  }
});
