/** Plain-text output: aligned tables and short timestamps. No colours. */

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  return all
    .map((r) =>
      header
        .map((_, i) => (i === header.length - 1 ? (r[i] ?? "") : (r[i] ?? "").padEnd(widths[i]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** Lambda's `2024-01-02T03:04:05.123+0000` as `2024-01-02 03:04:05 UTC`; anything else unchanged. */
export function shortTimestamp(lastModified: string | undefined): string {
  if (!lastModified) return "-";
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?(?:\+0000|Z)$/.exec(lastModified);
  return m ? `${m[1]} ${m[2]} UTC` : lastModified;
}
