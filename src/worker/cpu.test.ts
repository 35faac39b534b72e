import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../base/index.js";
import { CpuMeter, hostCpuTimes, type CpuTimes } from "./cpu.js";

test("the worked example: busy delta over total delta, once per window; the load average until then", () => {
  const clock = new ManualClock();
  let times: CpuTimes = { busy: 1000, idle: 3000 };
  const meter = new CpuMeter(clock, 1000, () => times, () => 0.4);
  assert.equal(meter.utilisation(), 0.4);
  times = { busy: 1150, idle: 3050 };
  clock.advance(500);
  assert.equal(meter.utilisation(), 0.4, "the window has not passed");
  clock.advance(700);
  assert.equal(meter.utilisation(), 0.75);
  times = { busy: 1160, idle: 3100 };
  clock.advance(999);
  assert.equal(meter.utilisation(), 0.75, "kept until the next window ends");
});

test("clamped to 0..1 whatever the stand-in says; the host's times are readable", () => {
  const meter = new CpuMeter(new ManualClock(), 1000, () => ({ busy: 0, idle: 0 }), () => 3.5);
  assert.equal(meter.utilisation(), 1);
  const t = hostCpuTimes();
  assert.ok(t.busy >= 0 && t.idle > 0);
});
