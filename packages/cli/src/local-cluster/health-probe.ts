// One HTTP GET of a daemon's /healthz or /readyz, as `tug up` waits on it and `tug status`
// shows it: every daemon answers 200 when healthy and 503 with the reason when not.

/** A probe must not hang `tug status` on a stopped process: 2 s is plenty on loopback. */
export const PROBE_TIMEOUT_MS = 2000;

export interface ProbeResult {
  readonly ok: boolean;
  /** "ok", or the HTTP status and body, or why the request failed ("connection refused"). */
  readonly detail: string;
}

export async function probe(
  url: string,
  timeoutMs: number = PROBE_TIMEOUT_MS,
): Promise<ProbeResult> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await response.text()).trim().replace(/\s+/g, " ").slice(0, 120);
    if (response.ok) return { ok: true, detail: body === "" ? "ok" : body };
    return { ok: false, detail: `${response.status} ${body}`.trim() };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    if (cause?.code === "ECONNREFUSED") return { ok: false, detail: "connection refused" };
    if ((err as Error).name === "TimeoutError") return { ok: false, detail: "no answer in time" };
    return { ok: false, detail: (err as Error).message };
  }
}
