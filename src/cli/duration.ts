/**
 * `--since` values: a relative duration (`30s`, `10m`, `2h`, `1d`, or combined like `1h30m`)
 * counted back from now, or an absolute ISO 8601 time. Returns epoch milliseconds.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export function parseSince(text: string, now: number): number | undefined {
  const t = text.trim();
  if (/^(\d+(ms|s|m|h|d|w))+$/.test(t)) {
    let total = 0;
    for (const [, n, unit] of t.matchAll(/(\d+)(ms|s|m|h|d|w)/g)) total += Number(n) * UNIT_MS[unit!]!;
    return now - total;
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(t)) {
    const ms = Date.parse(t);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}
