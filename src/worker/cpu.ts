/**
 * The worker's CPU signal for placement: utilisation of the whole host (sandboxes included) over
 * the last window, 0..1.
 *
 * Algorithm: keep the host's cumulative CPU times (busy and idle ticks over all cores, `os.cpus()`)
 * from the start of the current window; once the window (default 1 s, one heartbeat) has passed,
 * the utilisation is busy delta / total delta and a new window starts. Until the first window has
 * passed, the 1-minute load average per core stands in. Always clamped to 0..1.
 *
 * Worked example: at t = 0 the cores have 1,000 busy and 3,000 idle ticks; at t = 1.2 s, 1,150 busy
 * and 3,050 idle: utilisation 150 / 200 = 0.75, reported until t = 2.2 s.
 *
 * Known caveats: host-wide, so other tenants of the machine count as load (that is what a hot worker
 * is); `os.cpus()` ticks are 10 ms, so very short windows are coarse.
 */
import { cpus, loadavg } from "node:os";
import type { Clock } from "../base/index.js";

export interface CpuTimes {
  busy: number;
  idle: number;
}

export function hostCpuTimes(): CpuTimes {
  let busy = 0;
  let idle = 0;
  for (const c of cpus()) {
    busy += c.times.user + c.times.nice + c.times.sys + c.times.irq;
    idle += c.times.idle;
  }
  return { busy, idle };
}

const clamp01 = (x: number): number => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);

export class CpuMeter {
  private start: { at: number; times: CpuTimes } | undefined;
  private last: number | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly windowMs = 1000,
    private readonly sample: () => CpuTimes = hostCpuTimes,
    private readonly fallback: () => number = () => (loadavg()[0] ?? 0) / Math.max(1, cpus().length),
  ) {}

  /** Utilisation over the last completed window (0..1). */
  utilisation(): number {
    const now = this.clock.now();
    if (this.start === undefined) {
      this.start = { at: now, times: this.sample() };
    } else if (now - this.start.at >= this.windowMs) {
      const times = this.sample();
      const busy = times.busy - this.start.times.busy;
      const total = busy + times.idle - this.start.times.idle;
      if (total > 0) this.last = busy / total;
      this.start = { at: now, times };
    }
    return clamp01(this.last ?? this.fallback());
  }
}
