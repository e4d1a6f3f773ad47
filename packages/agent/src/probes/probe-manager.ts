// The probe manager (the kubelet's prober manager): one worker per running container and probe
// type. A worker waits initialDelaySeconds after the container started, then probes every
// periodSeconds with timeoutSeconds; the result flips to success after successThreshold
// consecutive successes and to failure after failureThreshold consecutive failures. Liveness and
// readiness wait until the startup probe has succeeded. A flip tells the pod's worker, which
// restarts the container (liveness, startup) or recomputes Ready (readiness).

import type { Container, Probe } from "@tug/api";
import type { CriClient } from "@tug/cri-docker";
import { type ProbeOutcome, runHandler } from "./probe-runner.js";

export type ProbeType = "liveness" | "readiness" | "startup";

/** Kubernetes' probe defaults (SetDefaults_Probe). */
const DEFAULT_TIMEOUT_S = 1;
const DEFAULT_PERIOD_S = 10;
const DEFAULT_SUCCESS_THRESHOLD = 1;
const DEFAULT_FAILURE_THRESHOLD = 3;

/** A container to probe. */
export interface ProbeSubject {
  podUid: string;
  containerId: string;
  container: Container;
  podIp: string;
  /** When the container started (ms since the epoch). */
  startedAtMs: number;
}

/** A failed probe, for the Unhealthy event and the kill message. */
export interface ProbeFailure {
  type: ProbeType;
  message: string;
}

class Worker {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private successes = 0;
  private failures = 0;
  result: boolean;
  lastFailure = "";
  /** Liveness/startup: true once the result went to failure (the container will be killed). */
  onHold = false;

  constructor(
    private readonly manager: ProbeManager,
    readonly type: ProbeType,
    private readonly probe: Probe,
    readonly subject: ProbeSubject,
  ) {
    // Readiness starts false, liveness true (the kubelet's initial values); startup false.
    this.result = type === "liveness";
    const delayMs = Math.max(
      0,
      subject.startedAtMs + probe.initialDelaySeconds * 1000 - Date.now(),
    );
    this.schedule(delayMs);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const period = (this.probe.periodSeconds || DEFAULT_PERIOD_S) * 1000;
    const gated =
      this.type !== "startup" &&
      !this.manager.startupDone(this.subject.containerId, this.subject.container);
    if (!gated && !this.onHold && !(this.type === "startup" && this.result)) {
      const outcome: ProbeOutcome = await runHandler(
        this.probe,
        {
          runtime: this.manager.runtime,
          containerId: this.subject.containerId,
          container: this.subject.container,
          podIp: this.subject.podIp,
        },
        this.probe.timeoutSeconds || DEFAULT_TIMEOUT_S,
      );
      if (this.stopped) return;
      this.record(outcome);
    }
    this.schedule(period);
  }

  private record(outcome: ProbeOutcome): void {
    const successThreshold = this.probe.successThreshold || DEFAULT_SUCCESS_THRESHOLD;
    const failureThreshold = this.probe.failureThreshold || DEFAULT_FAILURE_THRESHOLD;
    if (outcome.success) {
      this.successes++;
      this.failures = 0;
      if (!this.result && this.successes >= successThreshold) {
        this.result = true;
        this.manager.changed(this.subject.podUid);
      }
    } else {
      this.failures++;
      this.successes = 0;
      this.lastFailure = outcome.message;
      this.manager.onFailure(this.subject, this.type, outcome.message);
      if (this.failures >= failureThreshold && (this.result || this.type !== "readiness")) {
        const wasResult = this.result;
        this.result = false;
        if (this.type !== "readiness") this.onHold = true;
        if (wasResult || this.type !== "readiness") this.manager.changed(this.subject.podUid);
      }
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}

export class ProbeManager {
  private readonly workers = new Map<string, Worker>();

  constructor(
    readonly runtime: CriClient,
    private readonly onChange: (podUid: string) => void,
    /** Every failed attempt (for the Unhealthy event). */
    readonly onFailure: (subject: ProbeSubject, type: ProbeType, message: string) => void = () =>
      undefined,
  ) {}

  /** Runs the probes `subject`'s container defines (idempotent per container id and type). */
  ensure(subject: ProbeSubject): void {
    const probes: [ProbeType, Probe | undefined][] = [
      ["startup", subject.container.startupProbe],
      ["liveness", subject.container.livenessProbe],
      ["readiness", subject.container.readinessProbe],
    ];
    for (const [type, probe] of probes) {
      if (probe === undefined) continue;
      const key = `${subject.containerId}/${type}`;
      if (!this.workers.has(key)) this.workers.set(key, new Worker(this, type, probe, subject));
    }
  }

  /** Stops the workers of every container of `podUid` not in `keepIds`. */
  retain(podUid: string, keepIds: ReadonlySet<string>): void {
    for (const [key, w] of this.workers) {
      if (w.subject.podUid === podUid && !keepIds.has(w.subject.containerId)) {
        w.stop();
        this.workers.delete(key);
      }
    }
  }

  /** Whether the container has passed its startup probe (true when it has none). */
  startupDone(containerId: string, container: Container): boolean {
    if (container.startupProbe === undefined) return true;
    return this.workers.get(`${containerId}/startup`)?.result ?? false;
  }

  /** Readiness: true when ready (true without a readiness probe once started). */
  ready(containerId: string, container: Container): boolean {
    if (!this.startupDone(containerId, container)) return false;
    if (container.readinessProbe === undefined) return true;
    return this.workers.get(`${containerId}/readiness`)?.result ?? false;
  }

  /** A failed liveness or startup probe that calls for a restart, if any. */
  failure(containerId: string): ProbeFailure | undefined {
    for (const type of ["startup", "liveness"] as const) {
      const w = this.workers.get(`${containerId}/${type}`);
      if (w?.onHold) return { type, message: w.lastFailure };
    }
    return undefined;
  }

  changed(podUid: string): void {
    this.onChange(podUid);
  }

  stopAll(): void {
    for (const w of this.workers.values()) w.stop();
    this.workers.clear();
  }
}
