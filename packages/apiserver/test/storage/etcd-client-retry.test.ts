// The client's retry policy against a fake member that answers every KV call with an error,
// placed in front of a real store: which errors move on to the next endpoint, and which writes
// are sent again.

import { Metadata, Server, ServerCredentials, type ServiceError, status } from "@grpc/grpc-js";
import { etcdServices } from "@tug/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EtcdClient, type EtcdError } from "../../src/storage/etcd-client.js";
import { STORES, type TestStore } from "../support/stores.js";

interface FakeMember {
  readonly endpoint: string;
  calls: number;
  /** The error every call gets. */
  error: { code: status; details: string };
  stop(): Promise<void>;
}

async function startFakeMember(): Promise<FakeMember> {
  const server = new Server();
  const member: Omit<FakeMember, "endpoint" | "stop"> = {
    calls: 0,
    error: { code: status.UNAVAILABLE, details: "etcdserver: no leader" },
  };
  const fail = (_call: unknown, cb: (e: Partial<ServiceError>) => void) => {
    member.calls++;
    cb({ code: member.error.code, details: member.error.details, metadata: new Metadata() });
  };
  server.addService(etcdServices.KV.service, {
    Range: fail,
    Put: fail,
    DeleteRange: fail,
    Txn: fail,
    Compact: fail,
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) =>
      e === null ? resolve(p) : reject(e),
    ),
  );
  return Object.assign(member, {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  });
}

describe.each(STORES)(
  "EtcdClient retries with $name behind a failing member",
  { timeout: 30_000 },
  ({ start }) => {
    let store: TestStore;
    let fake: FakeMember;
    beforeAll(async () => {
      store = await start();
      fake = await startFakeMember();
    });
    afterAll(async () => {
      await fake?.stop();
      await store?.stop();
    });

    const withClient = async (fn: (c: EtcdClient) => Promise<void>) => {
      const c = new EtcdClient({ endpoints: [fake.endpoint, ...store.endpoints] });
      try {
        await fn(c);
      } finally {
        c.close();
      }
    };

    it("retries reads and never-applied writes (no leader) on the next member", async () => {
      fake.error = { code: status.UNAVAILABLE, details: "etcdserver: no leader" };
      fake.calls = 0;
      await withClient(async (c) => {
        expect((await c.create("/retry/a", Buffer.from("1"))).succeeded).toBe(true);
        expect((await c.get("/retry/a")).kv?.value.toString()).toBe("1");
        // The client stays on the member that answered.
        expect(fake.calls).toBe(1);
      });
    });

    it("surfaces a write that may have been applied (leader changed) instead of sending it again", async () => {
      fake.error = { code: status.UNAVAILABLE, details: "etcdserver: leader changed" };
      fake.calls = 0;
      await withClient(async (c) => {
        const err = (await c
          .create("/retry/b", Buffer.from("1"))
          .catch((e: unknown) => e)) as EtcdError;
        expect(err.code).toBe("unavailable");
        expect(err.message).toContain("leader changed");
        expect(fake.calls).toBe(1);
        // The next call goes to the next member.
        expect((await c.create("/retry/b", Buffer.from("1"))).succeeded).toBe(true);
        expect(fake.calls).toBe(1);
      });
    });

    it("does not retry errors about the request itself", async () => {
      fake.error = { code: status.INVALID_ARGUMENT, details: "etcdserver: request is too large" };
      fake.calls = 0;
      await withClient(async (c) => {
        const err = (await c.get("/retry/c").catch((e: unknown) => e)) as EtcdError;
        expect(err.code).toBe("invalid");
        expect(fake.calls).toBe(1);
      });
    });
  },
);
