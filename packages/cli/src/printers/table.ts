// kubectl's table layout: columns separated by at least three spaces, each as wide as its widest
// cell, the last column unpadded (Go's text/tabwriter with kubectl's settings: minwidth 6,
// padding 3). Headers are upper-case; empty cells never occur (printers write "<none>").

/** Column padding and minimum cell width of kubectl's tab writer. */
const PADDING = 3;
const MIN_WIDTH = 6;

/** The lines of a table (each ending in "\n"), header first. */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const all = [header, ...rows];
  const widths: number[] = [];
  for (const row of all) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, Math.max(cell.length + PADDING, MIN_WIDTH));
    });
  }
  return all
    .map((row) =>
      row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join(""),
    )
    .map((line) => `${line}\n`)
    .join("");
}
