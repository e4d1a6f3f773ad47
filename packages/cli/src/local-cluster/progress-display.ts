// The progress of `tug up`: one line per component, "starting" → "healthy" (or "failed") with
// the time it took. On a terminal the lines are redrawn in place a few times a second; when
// stdout is a file or a pipe each change is printed once as a plain line, so logs stay readable.

import type { TextSink } from "../cli-io.js";

export type Phase = "waiting" | "starting" | "healthy" | "failed";

export interface ProgressRow {
  readonly name: string;
  phase: Phase;
  /** ms timestamp the current phase began (starting) or the component became healthy. */
  startedAt: number;
  finishedAt?: number;
  /** e.g. "pid 4242, :2379" or the failure reason. */
  detail: string;
}

/** "1.2s", "12s", "1m05s": elapsed time as people read it. */
export function formatElapsed(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  if (seconds < 60) return `${Math.floor(seconds)}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.floor(seconds % 60);
  return `${m}m${String(s).padStart(2, "0")}s`;
}

const MARK: Record<Phase, string> = { waiting: " ", starting: "…", healthy: "✓", failed: "✗" };

/** One component's line at time `now`. */
export function renderRow(row: ProgressRow, width: number, now: number): string {
  const elapsed =
    row.phase === "waiting" ? "" : formatElapsed((row.finishedAt ?? now) - row.startedAt);
  const detail = row.detail === "" ? "" : `  ${row.detail}`;
  return `${MARK[row.phase]} ${row.name.padEnd(width)}  ${row.phase.padEnd(8)} ${elapsed.padStart(6)}${detail}`.trimEnd();
}

/** How often a terminal display is redrawn while something is starting. */
const REDRAW_MS = 250;

export class ProgressDisplay {
  readonly #out: TextSink;
  readonly #tty: boolean;
  readonly #rows: ProgressRow[];
  readonly #width: number;
  readonly #clock: () => number;
  #drawn = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    out: TextSink,
    tty: boolean,
    names: readonly string[],
    clock: () => number = Date.now,
  ) {
    this.#out = out;
    this.#tty = tty;
    this.#clock = clock;
    this.#rows = names.map((name) => ({ name, phase: "waiting", startedAt: 0, detail: "" }));
    this.#width = Math.max(...names.map((n) => n.length));
    if (tty) {
      this.#draw();
      this.#timer = setInterval(() => this.#draw(), REDRAW_MS);
      this.#timer.unref();
    }
  }

  /** Moves `name` to `phase`; the elapsed clock restarts when it starts. */
  set(name: string, phase: Phase, detail = ""): void {
    const row = this.#rows.find((r) => r.name === name);
    if (row === undefined) return;
    const now = this.#clock();
    if (phase === "starting") {
      row.startedAt = now;
      row.finishedAt = undefined;
    } else if (phase !== "waiting") {
      row.finishedAt = now;
    }
    row.phase = phase;
    row.detail = detail;
    if (this.#tty) this.#draw();
    else this.#out.write(`${renderRow(row, this.#width, now)}\n`);
  }

  /** Stops redrawing; the last state stays on screen. */
  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#tty) this.#draw();
  }

  #draw(): void {
    const now = this.#clock();
    // Cursor up over the previous drawing, then each line cleared and rewritten.
    const up = this.#drawn > 0 ? `\x1b[${this.#drawn}A` : "";
    const lines = this.#rows.map((r) => `\r\x1b[2K${renderRow(r, this.#width, now)}\n`).join("");
    this.#out.write(up + lines);
    this.#drawn = this.#rows.length;
  }
}
