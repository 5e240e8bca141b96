// Plain-text tables for command output (kubectl style: a header row, columns padded with two spaces).

/** Renders a header row and rows, each column as wide as its widest cell; ends with a newline. */
export function textTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const width = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    headers
      .map((_, i) => (cells[i] ?? "").padEnd(width[i]!))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line), ""].join("\n");
}
