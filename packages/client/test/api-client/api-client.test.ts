// ApiClient against a small in-process gRPC server speaking tug.apiserver.v1.Api: typed
// results, Status trailers parsed into ApiError, failover past an unreachable server,
// deadlines, and watch streams (events, ERROR events, cancel).

import { create, toBinary } from "@bufbuild/protobuf";
import { anyPack, anyUnpack } from "@bufbuild/protobuf/wkt";
import {
  status as grpcStatus,
  Metadata,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
} from "@grpc/grpc-js";
import { ConfigMapSchema, kindForResource, PodSchema, StatusSchema } from "@tug/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ApiClient,
  ApiError,
  apiServiceDefinition,
  apiv1,
  isApiError,
  kindInfoOf,
  STATUS_METADATA_KEY,
} from "../../src/api-client/index.js";

function statusTrailer(reason: string, code: number, message: string): Metadata {
  const md = new Metadata();
  const status = create(StatusSchema, {
    status: "Failure",
    reason,
    code,
    message,
    details: {
      name: "web",
      kind: "pods",
      causes: [{ reason: "FieldValueRequired", message: "Required value", field: "spec.x" }],
    },
  });
  md.set(STATUS_METADATA_KEY, Buffer.from(toBinary(StatusSchema, status)));
  return md;
}

describe("ApiClient", () => {
  let server: Server;
  let address: string;
  const watchCancelled: boolean[] = [];
  /** The authorization metadata of each Get and Watch, in arrival order. */
  const authorizations: string[][] = [];
  /** namespace, name, nodeName and uid of each Bind. */
  const binds: string[][] = [];
  /** namespace (of the ref), name and dryRun of each Create. */
  const creates: string[][] = [];

  beforeAll(async () => {
    server = new Server();
    server.addService(apiServiceDefinition, {
      Get: (
        call: ServerUnaryCall<apiv1.GetRequest, apiv1.ObjectResponse>,
        cb: sendUnaryData<apiv1.ObjectResponse>,
      ) => {
        const name = call.request.ref?.name ?? "";
        authorizations.push(call.metadata.get("authorization").map(String));
        if (name === "missing") {
          cb({
            code: grpcStatus.NOT_FOUND,
            details: 'pods "missing" not found',
            metadata: statusTrailer("NotFound", 404, 'pods "missing" not found'),
          });
          return;
        }
        if (name === "slow") return; // never answers: the deadline must end the call
        const pod = create(PodSchema, {
          metadata: { name, namespace: call.request.ref?.namespace ?? "" },
        });
        cb(null, create(apiv1.ObjectResponseSchema, { object: anyPack(PodSchema, pod) }));
      },
      Watch: (call: ServerWritableStream<apiv1.WatchRequest, apiv1.WatchEvent>) => {
        // Only the watch that the cancel test leaves open counts.
        if (call.request.resourceVersion === "2")
          call.on("cancelled", () => watchCancelled.push(true));
        authorizations.push(call.metadata.get("authorization").map(String));
        const cm = create(ConfigMapSchema, { metadata: { name: "a", resourceVersion: "5" } });
        call.write(
          create(apiv1.WatchEventSchema, { type: "ADDED", object: anyPack(ConfigMapSchema, cm) }),
        );
        if (call.request.resourceVersion === "1") {
          const expired = create(StatusSchema, {
            status: "Failure",
            reason: "Expired",
            code: 410,
            message: "too old resource version: 1 (7)",
          });
          call.write(
            create(apiv1.WatchEventSchema, {
              type: "ERROR",
              object: anyPack(StatusSchema, expired),
            }),
          );
          call.end();
        }
        // Otherwise stay open until the client cancels.
      },
      Create: (
        call: ServerUnaryCall<apiv1.CreateRequest, apiv1.ObjectResponse>,
        cb: sendUnaryData<apiv1.ObjectResponse>,
      ) => {
        const pod = call.request.object && anyUnpack(call.request.object, PodSchema);
        const name = pod?.metadata?.name ?? "";
        creates.push([call.request.ref?.namespace ?? "", name, String(call.request.dryRun)]);
        if (name === "taken") {
          const message = 'pods "taken" already exists';
          cb({
            code: grpcStatus.ALREADY_EXISTS,
            details: message,
            metadata: statusTrailer("AlreadyExists", 409, message),
          });
          return;
        }
        cb(null, create(apiv1.ObjectResponseSchema, { object: call.request.object }));
      },
      Bind: (
        call: ServerUnaryCall<apiv1.BindRequest, apiv1.ObjectResponse>,
        cb: sendUnaryData<apiv1.ObjectResponse>,
      ) => {
        const { namespace, name, nodeName, uid } = call.request;
        binds.push([namespace, name, nodeName, uid]);
        if (name === "ghost") {
          const message = `pods "ghost" not found`;
          cb({
            code: grpcStatus.NOT_FOUND,
            details: message,
            metadata: statusTrailer("NotFound", 404, message),
          });
          return;
        }
        const pod = create(PodSchema, { metadata: { name, namespace }, spec: { nodeName } });
        cb(null, create(apiv1.ObjectResponseSchema, { object: anyPack(PodSchema, pod) }));
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) =>
        e === null ? resolve(p) : reject(e),
      ),
    );
    address = `127.0.0.1:${port}`;
  });
  afterAll(() => {
    server?.forceShutdown();
  });

  it("returns typed objects, skipping a server that cannot be reached", async () => {
    const client = new ApiClient({ servers: ["127.0.0.1:1", `http://${address}`] });
    try {
      const pod = await client.get(PodSchema, "web", { namespace: "default" });
      expect(pod.$typeName).toBe("tug.core.v1.Pod");
      expect(pod.metadata?.name).toBe("web");
      expect(pod.metadata?.namespace).toBe("default");
    } finally {
      client.close();
    }
  });

  it("binds with and without decoding the bound pod, and rejects a Status as ApiError", async () => {
    const client = new ApiClient({ servers: [address] });
    try {
      const bound = await client.bind("default", "web", "n1", { uid: "u1" });
      expect(bound.$typeName).toBe("tug.core.v1.Pod");
      expect(await client.bindWithoutResult("default", "db", "n2", { uid: "u2" })).toBeUndefined();
      const err = await client.bindWithoutResult("default", "ghost", "n1").catch((e: unknown) => e);
      expect(isApiError(err, "NotFound")).toBe(true);
      expect(binds).toEqual([
        ["default", "web", "n1", "u1"],
        ["default", "db", "n2", "u2"],
        ["default", "ghost", "n1", ""],
      ]);
    } finally {
      client.close();
    }
  });

  it("creates from a request encoded once, sent again unchanged, without decoding the reply", async () => {
    const client = new ApiClient({ servers: [address] });
    try {
      const pod = create(PodSchema, { metadata: { name: "web" } });
      const encoded = client.encodeCreate(PodSchema, pod, { namespace: "team" });
      pod.metadata = { name: "changed-after-encoding" } as typeof pod.metadata;
      expect(await client.createEncoded(encoded)).toBeUndefined();
      expect(await client.createEncoded(encoded)).toBeUndefined();
      const db = create(PodSchema, { metadata: { name: "db", namespace: "prod" } });
      expect(await client.createWithoutResult(PodSchema, db, { dryRun: true })).toBeUndefined();
      const taken = create(PodSchema, { metadata: { name: "taken", namespace: "prod" } });
      const err = await client.createWithoutResult(PodSchema, taken).catch((e: unknown) => e);
      expect(isApiError(err, "AlreadyExists")).toBe(true);
      expect((err as ApiError).message).toBe('pods "taken" already exists');
      expect(creates).toEqual([
        ["team", "web", "false"],
        ["team", "web", "false"],
        ["prod", "db", "true"],
        ["prod", "taken", "false"],
      ]);
    } finally {
      client.close();
    }
  });

  it("watches with objects left undecoded, and still throws an ERROR event", async () => {
    const client = new ApiClient({ servers: [address] });
    try {
      const stream = client.watchUndecoded(ConfigMapSchema, { resourceVersion: "1" });
      const seen: string[] = [];
      const err = await (async () => {
        try {
          for await (const ev of stream) {
            const cm = anyUnpack(ev.object, ConfigMapSchema);
            seen.push(`${ev.type} ${ev.object.typeUrl} ${cm?.metadata?.name}`);
          }
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(seen).toEqual(["ADDED type.googleapis.com/tug.core.v1.ConfigMap a"]);
      expect(err).toMatchObject({ reason: "Expired", code: 410 });
    } finally {
      client.close();
    }
  });

  it("sends the bearer token with unary calls and watches, and nothing without one", async () => {
    authorizations.length = 0;
    const withToken = new ApiClient({ servers: [address], token: "s3cr3t" });
    const without = new ApiClient({ servers: [address] });
    try {
      await withToken.get(PodSchema, "web", { namespace: "default" });
      // resourceVersion "1": the test server sends one event, then Expired, and ends the stream.
      const stream = withToken.watch(ConfigMapSchema, {
        namespace: "default",
        resourceVersion: "1",
      });
      await expect(
        (async () => {
          for await (const _event of stream);
        })(),
      ).rejects.toThrow(ApiError);
      await without.get(PodSchema, "web", { namespace: "default" });
      expect(authorizations).toEqual([["Bearer s3cr3t"], ["Bearer s3cr3t"], []]);
    } finally {
      withToken.close();
      without.close();
    }
    expect(() => new ApiClient({ servers: [address], token: "Bearer x" })).toThrow(
      /the token contains whitespace; give the bare token/,
    );
  });

  it("turns the Status trailer into an ApiError with reason, code and causes", async () => {
    const client = new ApiClient({ servers: [address] });
    try {
      const e = await client.get(PodSchema, "missing", { namespace: "default" }).catch((x) => x);
      expect(isApiError(e, "NotFound")).toBe(true);
      expect(e).toMatchObject({
        reason: "NotFound",
        code: 404,
        grpcCode: grpcStatus.NOT_FOUND,
        message: 'pods "missing" not found',
        fromServer: true,
      });
      expect((e as ApiError).details.name).toBe("web");
      expect((e as ApiError).causes).toEqual([
        { reason: "FieldValueRequired", message: "Required value", field: "spec.x" },
      ]);
    } finally {
      client.close();
    }
  });

  it("ends a call at its deadline with reason Timeout, and infers ServiceUnavailable", async () => {
    const client = new ApiClient({ servers: [address], requestTimeoutMs: 200 });
    const down = new ApiClient({ servers: ["127.0.0.1:1"] });
    try {
      const slow = await client.get(PodSchema, "slow", { namespace: "default" }).catch((x) => x);
      expect(slow).toBeInstanceOf(ApiError);
      expect((slow as ApiError).reason).toBe("Timeout");
      expect((slow as ApiError).fromServer).toBe(false);
      const unreachable = await down.get(PodSchema, "x", { namespace: "d" }).catch((x) => x);
      expect((unreachable as ApiError).reason).toBe("ServiceUnavailable");
      expect((unreachable as ApiError).code).toBe(503);
    } finally {
      client.close();
      down.close();
    }
  });

  it("streams watch events, throws an ERROR event as ApiError, and cancels", async () => {
    const client = new ApiClient({ servers: [address] });
    try {
      const expiring = client.watch(ConfigMapSchema, { resourceVersion: "1" });
      const seen: string[] = [];
      const err = await (async () => {
        try {
          for await (const ev of expiring) seen.push(`${ev.type} ${ev.object.metadata?.name}`);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(seen).toEqual(["ADDED a"]);
      expect(err).toMatchObject({ reason: "Expired", code: 410 });

      const open = client.watch(ConfigMapSchema, { resourceVersion: "2" });
      const types: string[] = [];
      for await (const ev of open) {
        types.push(ev.type);
        open.cancel();
      }
      expect(types).toEqual(["ADDED"]);
      for (let i = 0; i < 50 && watchCancelled.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(watchCancelled.length).toBe(1);
    } finally {
      client.close();
    }
  });

  it("names kinds by schema or KindInfo, and refuses non-kinds", () => {
    expect(kindInfoOf(PodSchema).resource).toBe("pods");
    const pods = kindForResource("", "pods");
    expect(pods && kindInfoOf(pods)).toBe(pods);
    expect(() => kindInfoOf(StatusSchema)).toThrow(/is not an API kind/);
  });
});
