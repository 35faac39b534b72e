/** Markdown for the report: numbers, spreads ("median (min-max)"), tables. Pure. */
import type { Spread } from "./stats.js";

/** 1234.5 -> "1,235"; 12.34 -> "12.3"; 0.1234 -> "0.123"; NaN -> "n/a". */
export function num(v: number, digits?: number): string {
  if (!Number.isFinite(v)) return "n/a";
  const d = digits ?? (Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : Math.abs(v) >= 1 ? 2 : 3);
  return v.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
}

/** "median (min–max)", or just the value when there was one round. */
export function spr(s: Spread | undefined, digits?: number): string {
  if (s === undefined || s.n === 0) return "n/a";
  if (s.n === 1 || s.min === s.max) return num(s.median, digits);
  return `${num(s.median, digits)} (${num(s.min, digits)}–${num(s.max, digits)})`;
}

/** Ratio "2.31x (2.10–2.52)". */
export const ratio = (s: Spread | undefined): string => (s === undefined || s.n === 0 ? "n/a" : spr(s, 2).replace(/^([^ ]+)/, "$1x"));

export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}
