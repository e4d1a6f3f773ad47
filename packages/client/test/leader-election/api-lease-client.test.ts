import { clone } from "@bufbuild/protobuf";
import { type Lease, LeaseSchema } from "@tug/api";
import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/api-client/api-error.js";
import { apiLeaseClient, LeaderElector, type LeaseApi } from "../../src/leader-election/index.js";
import { FakeClock } from "../informer/support/fake-clock.js";

/** The three Lease verbs over a map, with the API server's NotFound/AlreadyExists/Conflict. */
function fakeLeaseApi() {
  const leases = new Map<string, Lease>();
  let rv = 100;
  const key = (namespace: string | undefined, name: string) => `${namespace ?? ""}/${name}`;
  const error = (reason: string, code: number, message: string) =>
    new ApiError({ reason, code, grpcCode: 0, message, fromServer: true });
  const api = {
    get: async (_kind: unknown, name: string, options: { namespace?: string }) => {
      const found = leases.get(key(options.namespace, name));
      if (found === undefined) throw error("NotFound", 404, `leases "${name}" not found`);
      return clone(LeaseSchema, found);
    },
    create: async (_kind: unknown, lease: Lease) => {
      const k = key(lease.metadata?.namespace, lease.metadata?.name ?? "");
      if (leases.has(k)) throw error("AlreadyExists", 409, "already exists");
      const stored = clone(LeaseSchema, lease);
      stored.metadata!.resourceVersion = String(++rv);
      leases.set(k, stored);
      return clone(LeaseSchema, stored);
    },
    update: async (_kind: unknown, lease: Lease) => {
      const k = key(lease.metadata?.namespace, lease.metadata?.name ?? "");
      const current = leases.get(k);
      if (current === undefined) throw error("NotFound", 404, "not found");
      if (current.metadata?.resourceVersion !== lease.metadata?.resourceVersion) {
        throw error("Conflict", 409, "the object has been modified");
      }
      const stored = clone(LeaseSchema, lease);
      stored.metadata!.resourceVersion = String(++rv);
      leases.set(k, stored);
      return clone(LeaseSchema, stored);
    },
  };
  return { leases, api: api as unknown as LeaseApi };
}

const never = new AbortController().signal;

describe("apiLeaseClient", () => {
  it("reads a missing Lease as none, creates it, and round-trips the record", async () => {
    const { api, leases } = fakeLeaseApi();
    const client = apiLeaseClient(api, "kube-system", "tug-scheduler");
    expect(client.describe()).toBe("kube-system/tug-scheduler");
    expect(await client.get(never)).toBeUndefined();
    const record = {
      holderIdentity: "host-a",
      leaseDurationSeconds: 15,
      acquireTime: new Date("2026-01-02T03:04:05.678Z"),
      renewTime: new Date("2026-01-02T03:04:06.789Z"),
      leaseTransitions: 2,
    };
    const created = await client.create(record, never);
    expect(created).toEqual({ record, resourceVersion: "101" });
    expect(await client.get(never)).toEqual({ record, resourceVersion: "101" });
    const stored = leases.get("kube-system/tug-scheduler");
    expect(stored?.apiVersion).toBe("coordination.k8s.io/v1");
    expect(stored?.spec?.holderIdentity).toBe("host-a");
    await expect(client.create(record, never)).rejects.toMatchObject({ reason: "AlreadyExists" });
  });

  it("updates with the resourceVersion given, keeping the Lease's other metadata", async () => {
    const { api, leases } = fakeLeaseApi();
    const client = apiLeaseClient(api, "kube-system", "l");
    const record = {
      holderIdentity: "a",
      leaseDurationSeconds: 15,
      acquireTime: undefined,
      renewTime: undefined,
      leaseTransitions: 0,
    };
    await client.create(record, never);
    const withLabel = clone(LeaseSchema, leases.get("kube-system/l")!);
    withLabel.metadata!.labels = { team: "sched" };
    leases.set("kube-system/l", withLabel);
    const read = await client.get(never);
    const updated = await client.update(
      { ...record, holderIdentity: "b" },
      read!.resourceVersion,
      never,
    );
    expect(updated.record.holderIdentity).toBe("b");
    expect(leases.get("kube-system/l")?.metadata?.labels).toEqual({ team: "sched" });
    await expect(client.update(record, read!.resourceVersion, never)).rejects.toMatchObject({
      reason: "Conflict",
    });
  });

  it("carries a LeaderElector against the API's conflict semantics", async () => {
    const { api, leases } = fakeLeaseApi();
    const clock = new FakeClock();
    const leaders: string[] = [];
    const electors = ["a", "b"].map((identity) => {
      const elector = new LeaderElector({
        lease: apiLeaseClient(api, "kube-system", "tug-controller-manager"),
        identity,
        clock,
        random: () => 0,
        onError: () => {},
        callbacks: { onStartedLeading: () => leaders.push(identity), onStoppedLeading: () => {} },
      });
      const stop = new AbortController();
      return { elector, stop, done: elector.run(stop.signal) };
    });
    await clock.advance(20_000);
    expect(leaders).toEqual(["a"]);
    expect(leases.get("kube-system/tug-controller-manager")?.spec?.holderIdentity).toBe("a");
    for (const e of electors) e.stop.abort();
    await Promise.all(electors.map((e) => e.done));
  });
});
