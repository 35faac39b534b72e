import { test } from "node:test";
import assert from "node:assert/strict";
import { transition } from "./lifecycle.js";

test("lifecycle: only a runtime dying by itself is reported", () => {
  assert.deepEqual(transition("running", "exit"), { next: "exited", reportExit: true });
  assert.deepEqual(transition("restarting", "exit"), { next: "restarting", reportExit: false });
  assert.deepEqual(transition("destroyed", "exit"), { next: "destroyed", reportExit: false });
});

test("lifecycle: restart from running or exited, back to running once respawned", () => {
  assert.equal(transition("running", "restart")?.next, "restarting");
  assert.equal(transition("exited", "restart")?.next, "restarting");
  assert.equal(transition("restarting", "respawned")?.next, "running");
  assert.equal(transition("restarting", "respawn-failed")?.next, "exited");
});

test("lifecycle: destroy is always allowed and terminal; restarts after it are refused", () => {
  for (const s of ["running", "exited", "restarting", "destroyed"] as const) assert.equal(transition(s, "destroy")?.next, "destroyed");
  assert.equal(transition("destroyed", "restart"), undefined);
  assert.equal(transition("destroyed", "respawned")?.next, "destroyed");
});

test("lifecycle: events that cannot happen in a state are refused", () => {
  assert.equal(transition("running", "respawned"), undefined);
  assert.equal(transition("exited", "exit"), undefined);
  assert.equal(transition("restarting", "restart"), undefined);
});
