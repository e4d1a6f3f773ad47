// Go's text/tabwriter as kubectl's describe uses it (minwidth 0, padding 2): a tab ends a cell,
// and each column is as wide as its widest cell over the run of consecutive lines that have a
// cell in that column; the last cell of a line is never padded. Nested sections indent inside
// the first cell, so a header line without tabs ends the run above it.

/** Aligns tab-separated text; `padding` spaces follow the widest cell of each column run. */
export function alignTabs(text: string, padding = 2): string {
  const lines = text.split("\n").map((line) => line.split("\t"));
  const widths: number[][] = lines.map(() => []);
  const columns = Math.max(0, ...lines.map((cells) => cells.length - 1));
  for (let column = 0; column < columns; column++) {
    let start = 0;
    while (start < lines.length) {
      if ((lines[start]?.length ?? 0) - 1 <= column) {
        start++;
        continue;
      }
      let end = start;
      let width = 0;
      while (end < lines.length && (lines[end]?.length ?? 0) - 1 > column) {
        width = Math.max(width, lines[end]?.[column]?.length ?? 0);
        end++;
      }
      for (let i = start; i < end; i++) (widths[i] as number[])[column] = width + padding;
      start = end;
    }
  }
  return lines
    .map((cells, i) =>
      cells
        .map((cell, column) =>
          column === cells.length - 1 ? cell : cell.padEnd(widths[i]?.[column] ?? 0),
        )
        .join(""),
    )
    .join("\n");
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** An RFC 3339 timestamp in kubectl describe's RFC 1123Z form, in UTC: "Wed, 01 May 2024 11:56:48 +0000". */
export function describeTime(timestamp: string): string {
  if (timestamp === "") return "<unset>";
  const t = new Date(Date.parse(timestamp));
  if (Number.isNaN(t.getTime())) return timestamp;
  const two = (n: number) => `${n}`.padStart(2, "0");
  return `${DAYS[t.getUTCDay()]}, ${two(t.getUTCDate())} ${MONTHS[t.getUTCMonth()]} ${t.getUTCFullYear()} ${two(t.getUTCHours())}:${two(t.getUTCMinutes())}:${two(t.getUTCSeconds())} +0000`;
}

/** Builds describe output: `line(level, key, value)` writes "key:\tvalue" indented 2*level. */
export class DescribeWriter {
  readonly #lines: string[] = [];

  /** A "Key:  value" line; value undefined writes a section header "Key:". */
  line(level: number, key: string, value?: string): void {
    const indent = "  ".repeat(level);
    this.#lines.push(value === undefined ? `${indent}${key}:` : `${indent}${key}:\t${value}`);
  }

  /** A raw line (tabs separate cells). */
  raw(level: number, text: string): void {
    this.#lines.push(`${"  ".repeat(level)}${text}`);
  }

  /**
   * A map, one entry per line, the first beside the key; "<none>" when empty. Labels print as
   * "k=v", annotations as "k: v" (kubectl's two forms).
   */
  map(level: number, key: string, map: Record<string, string>, separator = "="): void {
    const keys = Object.keys(map).sort();
    if (keys.length === 0) {
      this.line(level, key, "<none>");
      return;
    }
    keys.forEach((k, i) => {
      const entry = `${k}${separator}${map[k]}`;
      if (i === 0) this.line(level, key, entry);
      else this.raw(level, `\t${entry}`);
    });
  }

  toString(): string {
    return `${alignTabs(this.#lines.join("\n"))}\n`;
  }
}
