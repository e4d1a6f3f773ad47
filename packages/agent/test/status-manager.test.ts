// The status manager writes a pod's status only when it changed, on a fresh read of the pod
// (keeping conditions others set), and retries a conflicting write.

import { clone, create } from "@bufbuild/protobuf";
import { type Pod, PodSchema, PodStatusSchema } from "@tug/api";
import { type ApiClient, ApiError } from "@tug/client";
import { describe, expect, it } from "vitest";
import { StatusManager } from "../src/pods/status-manager.js";

function fakeClient(stored: Pod, conflicts = 0) {
  const calls = { get: 0, updateStatus: 0 };
  let left = conflicts;
  const client = {
    async get() {
      calls.get++;
      return clone(PodSchema, stored);
    },
    async updateStatus(_kind: unknown, pod: Pod) {
      calls.updateStatus++;
      if (left > 0) {
        left--;
        throw Object.assign(Object.create(ApiError.prototype) as ApiError, {
          reason: "Conflict",
          message: "conflict",
        });
      }
      stored.status = pod.status;
      return pod;
    },
  };
  return { client: client as unknown as ApiClient, calls, stored };
}

const pod = () =>
  create(PodSchema, {
    metadata: { name: "p", namespace: "default", uid: "u1" },
    status: { phase: "Pending", conditions: [{ type: "PodScheduled", status: "True" }] },
  });

describe("StatusManager", () => {
  it("skips a status equal to the pod's or to the last one written", async () => {
    const p = pod();
    const { client, calls } = fakeClient(p);
    const m = new StatusManager(client);
    expect(await m.update(p, clone(PodStatusSchema, p.status ?? create(PodStatusSchema)))).toBe(
      false,
    );
    expect(calls.updateStatus).toBe(0);
    const running = create(PodStatusSchema, { phase: "Running" });
    expect(await m.update(p, running)).toBe(true);
    expect(await m.update(p, running)).toBe(false);
    expect(calls.updateStatus).toBe(1);
    expect(m.writes).toBe(1);
  });

  it("keeps conditions set by others and retries a conflict", async () => {
    const p = pod();
    const { client, calls, stored } = fakeClient(p, 2);
    const m = new StatusManager(client);
    expect(
      await m.update(
        p,
        create(PodStatusSchema, {
          phase: "Running",
          conditions: [{ type: "Ready", status: "True" }],
        }),
      ),
    ).toBe(true);
    expect(calls.updateStatus).toBe(3);
    expect(stored.status?.conditions.map((c) => c.type)).toEqual(["Ready", "PodScheduled"]);
  });
});
