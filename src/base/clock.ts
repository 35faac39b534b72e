/** Time is injected: components take a Clock so tests can move it instead of sleeping. */
export interface Clock {
  /** Wall-clock milliseconds since the epoch. */
  now(): number;
  /** Monotonic milliseconds with sub-millisecond precision, for durations. */
  monotonic(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};

/** A clock that only moves when told to. */
export class ManualClock implements Clock {
  private wall: number;
  private mono = 0;
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.wall = start;
  }
  now(): number {
    return this.wall;
  }
  monotonic(): number {
    return this.mono;
  }
  advance(ms: number): void {
    this.wall += ms;
    this.mono += ms;
  }
}

/** Lambda's LastModified format: 2024-01-02T03:04:05.123+0000 */
export function lambdaTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace("Z", "+0000");
}
