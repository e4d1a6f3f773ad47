// `tug --token` and a config user's token against a tug-apiserver that checks tokens: the token
// goes with every call, a missing or wrong one gets kubectl's "You must be logged in" error.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiServer, parseTokenFile } from "@tug/apiserver";
import { LocalBackend, startEtcdGrpcServer } from "@tug/store";
import { afterAll, beforeAll, expect, it } from "vitest";
import { connectApiClient } from "../../src/client/api-client-adapter.js";
import { runTug } from "../../src/program.js";
import { fakeIo } from "../support/fake-io.js";

let backend: LocalBackend;
let store: Awaited<ReturnType<typeof startEtcdGrpcServer>>;
let server: ApiServer;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tug-cli-token-"));
  backend = new LocalBackend({ name: "cli-token" });
  store = await startEtcdGrpcServer({ backend, listen: "127.0.0.1:0" });
  server = await ApiServer.start({
    etcdServers: [`http://127.0.0.1:${store.port}`],
    listen: "127.0.0.1:0",
    compactionIntervalMs: 0,
    authentication: {
      tokens: parseTokenFile("secret-1,alice,1001\n"),
      serviceAccountKeys: [],
      serviceAccountIssuers: [],
      serviceAccountLookup: true,
      anonymous: false,
    },
  });
});

afterAll(async () => {
  await server?.stop();
  await store?.close();
  backend?.close();
  await rm(dir, { recursive: true, force: true });
});

async function tug(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = { ...fakeIo({ env: { TUGCONFIG: join(dir, "config") } }), connect: connectApiClient };
  const code = await runTug(["--request-timeout", "10s", ...args], io);
  return { code, out: io.out(), err: io.err() };
}

it("sends --token, and the context user's token, with every request", async () => {
  const anonymous = await tug(
    "--server",
    server.address,
    "get",
    "namespace",
    "default",
    "-o",
    "name",
  );
  expect(anonymous.code).toBe(1);
  expect(anonymous.err).toMatch(
    /^error: You must be logged in to the server \(Unauthorized\); set a token with --token/,
  );
  const wrong = await tug(
    "--server",
    server.address,
    "--token",
    "nope",
    "get",
    "namespace",
    "default",
  );
  expect(wrong.code).toBe(1);
  expect(wrong.err).toContain("You must be logged in to the server");
  expect(
    await tug(
      "--server",
      server.address,
      "--token",
      "secret-1",
      "get",
      "namespace",
      "default",
      "-o",
      "name",
    ),
  ).toEqual({
    code: 0,
    out: "namespace/default\n",
    err: "",
  });
  // The same from the config file: a cluster, a user with the token, a context joining them.
  for (const args of [
    ["config", "set-cluster", "here", `--server=${server.address}`],
    ["config", "set-credentials", "alice", "--token=secret-1"],
    ["config", "set-context", "alice@here", "--cluster=here", "--user=alice"],
    ["config", "use-context", "alice@here"],
  ]) {
    expect((await tug(...args)).code).toBe(0);
  }
  expect(await tug("get", "namespace", "default", "-o", "name")).toMatchObject({
    code: 0,
    out: "namespace/default\n",
  });
});
