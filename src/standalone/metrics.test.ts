import { test } from "node:test";
import assert from "node:assert/strict";
import { operatorMetrics } from "./metrics.js";

test("a micro-VM server reports its accelerator and why KVM was not chosen", () => {
  const m = operatorMetrics({ driver: "microvm", accelerator: { accel: "tcg", reason: "/dev/kvm is missing", probeMs: 812 }, environments: 3, pool: { idle: 1, target: 2 } });
  assert.deepEqual(m, {
    sandbox: { driver: "microvm", accelerator: "tcg", acceleratorReason: "/dev/kvm is missing" },
    environments: 3,
    pool: { enabled: true, idle: 1, target: 2 },
  });
  assert.deepEqual(operatorMetrics({ driver: "microvm", accelerator: { accel: "kvm", probeMs: 40 }, environments: 0 }).sandbox, { driver: "microvm", accelerator: "kvm", acceleratorReason: null });
});

test("a process server has no accelerator; no pool reads as disabled", () => {
  assert.deepEqual(operatorMetrics({ driver: "process", environments: 0 }), {
    sandbox: { driver: "process", accelerator: null, acceleratorReason: null },
    environments: 0,
    pool: { enabled: false },
  });
});
