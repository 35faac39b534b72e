/**
 * Statistics the bench reports: percentiles of one round's samples, and min/median/max of a figure
 * over repeated rounds (the shape of every number in the results). Pure.
 *
 * Percentiles use the nearest-rank method: p99 of 30 samples is the 30th (largest) sample, which is
 * what "p99 over 30 cold starts" can honestly mean.
 */

/** A figure measured once per round, summarized over the rounds. */
export interface Spread {
  min: number;
  median: number;
  max: number;
  /** Number of rounds. */
  n: number;
}

/** Nearest-rank percentile (p in 0..100) of unsorted samples; NaN when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return percentileOfSorted(sorted, p);
}

export function percentileOfSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  count: number;
}

export function percentiles(samples: readonly number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    p50: percentileOfSorted(sorted, 50),
    p90: percentileOfSorted(sorted, 90),
    p99: percentileOfSorted(sorted, 99),
    max: sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN,
    count: sorted.length,
  };
}

/** min/median/max over rounds; NaN rounds (a failed measurement) are left out. */
export function spread(values: readonly number[]): Spread {
  const ok = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (ok.length === 0) return { min: Number.NaN, median: Number.NaN, max: Number.NaN, n: 0 };
  const mid = Math.floor(ok.length / 2);
  const median = ok.length % 2 === 1 ? ok[mid]! : (ok[mid - 1]! + ok[mid]!) / 2;
  return { min: ok[0]!, median, max: ok[ok.length - 1]!, n: ok.length };
}

/** Summarizes each numeric field of per-round records: { field: Spread }. */
export function spreads<K extends string>(rounds: ReadonlyArray<Record<K, number>>, fields: readonly K[]): Record<K, Spread> {
  const out = {} as Record<K, Spread>;
  for (const f of fields) out[f] = spread(rounds.map((r) => r[f]));
  return out;
}

/** a / b for the medians of two spreads (NaN when either is missing). */
export const medianRatio = (a: Spread | undefined, b: Spread | undefined): number =>
  a === undefined || b === undefined || b.median === 0 ? Number.NaN : a.median / b.median;
