/**
 * AsyncEventAge, as Lambda defines it: the time from enqueue to each invocation attempt. Kept per
 * lane over the most recent attempts (in memory; the counters that must survive a restart live in
 * the queue).
 */

export const AGE_WINDOW = 512;

export interface AgeSummary {
  /** Attempts in the window. */
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  lastMs: number;
}

export class AgeWindow {
  private readonly lanes = new Map<string, { ring: number[]; next: number; last: number }>();

  record(lane: string, ageMs: number): void {
    let w = this.lanes.get(lane);
    if (!w) {
      w = { ring: [], next: 0, last: 0 };
      this.lanes.set(lane, w);
    }
    const age = Math.max(0, ageMs);
    if (w.ring.length < AGE_WINDOW) w.ring.push(age);
    else w.ring[w.next] = age;
    w.next = (w.next + 1) % AGE_WINDOW;
    w.last = age;
  }

  summary(lane: string): AgeSummary | undefined {
    const w = this.lanes.get(lane);
    if (!w || w.ring.length === 0) return undefined;
    const sorted = [...w.ring].sort((a, b) => a - b);
    const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
    return { count: sorted.length, p50Ms: at(50), p99Ms: at(99), maxMs: sorted[sorted.length - 1]!, lastMs: w.last };
  }
}
