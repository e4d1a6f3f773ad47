import type { JsonObject } from "@tug/api";
import { describe, expect, it } from "vitest";
import { podColumns } from "../../src/printers/pod-status.js";

const now = new Date("2024-05-01T12:00:00Z");

function pod(status: JsonObject, spec: JsonObject = {}, metadata: JsonObject = {}): JsonObject {
  return {
    metadata: { name: "web", ...metadata },
    spec: { containers: [{ name: "app", image: "x" }], ...spec },
    status,
  };
}

describe("podColumns (READY, STATUS, RESTARTS as kubectl computes them)", () => {
  it("shows the phase of a pod nothing has reported on", () => {
    expect(podColumns(pod({ phase: "Pending" }), now)).toEqual({
      ready: "0/1",
      status: "Pending",
      restarts: "0",
    });
    expect(podColumns(pod({}), now).status).toBe("Pending");
  });

  it("shows a waiting container's reason", () => {
    const p = pod({
      phase: "Pending",
      containerStatuses: [{ name: "app", state: { waiting: { reason: "ContainerCreating" } } }],
    });
    expect(podColumns(p, now).status).toBe("ContainerCreating");
  });

  it("counts ready running containers", () => {
    const p = pod(
      {
        phase: "Running",
        containerStatuses: [
          { name: "a", ready: true, state: { running: {} } },
          { name: "b", ready: false, state: { running: {} } },
        ],
      },
      { containers: [{ name: "a" }, { name: "b" }] },
    );
    expect(podColumns(p, now)).toEqual({ ready: "1/2", status: "Running", restarts: "0" });
  });

  it("shows CrashLoopBackOff with restarts and when the last one was", () => {
    const p = pod({
      phase: "Running",
      containerStatuses: [
        {
          name: "app",
          restartCount: 4,
          state: { waiting: { reason: "CrashLoopBackOff" } },
          lastState: { terminated: { exitCode: 1, finishedAt: "2024-05-01T11:55:00Z" } },
        },
      ],
    });
    expect(podColumns(p, now)).toEqual({
      ready: "0/1",
      status: "CrashLoopBackOff",
      restarts: "4 (5m ago)",
    });
  });

  it("shows Completed, or the exit code when the runtime gave no reason", () => {
    const done = pod({
      phase: "Succeeded",
      containerStatuses: [
        { name: "app", state: { terminated: { exitCode: 0, reason: "Completed" } } },
      ],
    });
    expect(podColumns(done, now).status).toBe("Completed");
    const failed = pod({
      phase: "Failed",
      containerStatuses: [{ name: "app", state: { terminated: { exitCode: 3 } } }],
    });
    expect(podColumns(failed, now).status).toBe("ExitCode:3");
    const killed = pod({
      phase: "Failed",
      containerStatuses: [{ name: "app", state: { terminated: { exitCode: 137, signal: 9 } } }],
    });
    expect(podColumns(killed, now).status).toBe("Signal:9");
  });

  it("shows Running, not Completed, while another container still runs", () => {
    const p = pod(
      {
        phase: "Running",
        conditions: [{ type: "Ready", status: "False" }],
        containerStatuses: [
          { name: "a", ready: true, state: { running: {} } },
          { name: "b", state: { terminated: { exitCode: 0, reason: "Completed" } } },
        ],
      },
      { containers: [{ name: "a" }, { name: "b" }] },
    );
    expect(podColumns(p, now).status).toBe("NotReady");
  });

  it("shows init progress: Init:0/1, Init:<reason>, Init:ExitCode", () => {
    const spec = { initContainers: [{ name: "init" }] };
    expect(
      podColumns(
        pod(
          { phase: "Pending", initContainerStatuses: [{ name: "init", state: { running: {} } }] },
          spec,
        ),
        now,
      ).status,
    ).toBe("Init:0/1");
    expect(
      podColumns(
        pod(
          {
            phase: "Pending",
            initContainerStatuses: [
              { name: "init", restartCount: 2, state: { waiting: { reason: "CrashLoopBackOff" } } },
            ],
          },
          spec,
        ),
        now,
      ),
    ).toEqual({ ready: "0/1", status: "Init:CrashLoopBackOff", restarts: "2" });
    expect(
      podColumns(
        pod(
          {
            phase: "Pending",
            initContainerStatuses: [{ name: "init", state: { terminated: { exitCode: 2 } } }],
          },
          spec,
        ),
        now,
      ).status,
    ).toBe("Init:ExitCode:2");
  });

  it("shows Terminating once deletion has begun, Unknown for a lost node", () => {
    const running = {
      phase: "Running",
      containerStatuses: [{ name: "app", ready: true, state: { running: {} } }],
    };
    expect(
      podColumns(pod(running, {}, { deletionTimestamp: "2024-05-01T11:59:00Z" }), now).status,
    ).toBe("Terminating");
    expect(
      podColumns(
        pod({ ...running, reason: "NodeLost" }, {}, { deletionTimestamp: "2024-05-01T11:59:00Z" }),
        now,
      ).status,
    ).toBe("Unknown");
  });

  it("prefers the pod's reason over its phase (Evicted)", () => {
    expect(podColumns(pod({ phase: "Failed", reason: "Evicted" }), now).status).toBe("Evicted");
  });
});
