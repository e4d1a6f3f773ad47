// Fakes for the scheduler's outside world: a Binder that plays the API server and the pod
// informer (a bound pod comes back through onPodUpdate), and an EventRecorder that keeps events.

import { clone } from "@bufbuild/protobuf";
import { type Pod, PodSchema } from "@tug/api";
import type { Binder, EventRecorder, Scheduler } from "../../src/scheduler.js";

export class FakeBinder implements Binder {
  readonly bound = new Map<string, string>();
  /** Keys whose next bind fails with this message. */
  readonly failNext = new Map<string, string>();
  scheduler: Scheduler | undefined;

  async bind(pod: Pod, nodeName: string): Promise<void> {
    await Promise.resolve();
    const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    const failure = this.failNext.get(key);
    if (failure !== undefined) {
      this.failNext.delete(key);
      throw new Error(failure);
    }
    if (this.bound.has(key)) throw new Error(`pod ${key} is already assigned`);
    this.bound.set(key, nodeName);
    const updated = clone(PodSchema, pod);
    if (updated.spec !== undefined) updated.spec.nodeName = nodeName;
    // The watch delivers the bound pod a little later.
    setImmediate(() => this.scheduler?.onPodUpdate(pod, updated));
  }
}

export class FakeRecorder implements EventRecorder {
  readonly failed: { pod: string; message: string }[] = [];
  readonly scheduledEvents: { pod: string; node: string }[] = [];

  failedScheduling(pod: Pod, message: string): void {
    this.failed.push({ pod: pod.metadata?.name ?? "", message });
  }

  scheduled(pod: Pod, nodeName: string): void {
    this.scheduledEvents.push({ pod: pod.metadata?.name ?? "", node: nodeName });
  }

  /** Messages of the FailedScheduling events of pod `name`. */
  failuresOf(name: string): string[] {
    return this.failed.filter((f) => f.pod === name).map((f) => f.message);
  }
}

/** Runs scheduling cycles until activeQ is empty and every bind and watch event landed. */
export async function drain(scheduler: Scheduler): Promise<void> {
  for (;;) {
    while (scheduler.queue.pending().active > 0) await scheduler.scheduleOne();
    await scheduler.idle();
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (scheduler.queue.pending().active === 0) return;
  }
}
