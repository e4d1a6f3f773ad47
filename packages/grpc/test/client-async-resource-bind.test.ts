// installAsyncResourceBind (src/client/async-resource-bind.ts): the replacement of Node 20's
// AsyncResource.prototype.bind does what Node's does — the async scope, `this`, thisArg,
// length, the deprecated asyncResource accessor and its DEP0172 warning, the error for a
// non-function — and node:http2 requests still run on it.

import { AsyncLocalStorage, AsyncResource, executionAsyncId } from "node:async_hooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import { installAsyncResourceBind } from "../src/client/async-resource-bind.js";
import { GrpcChannel } from "../src/index.js";
import { startEchoServer, Unary } from "./client-support.js";

const nodeBind = AsyncResource.prototype.bind;

describe("installAsyncResourceBind", { timeout: 30_000 }, () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("replaces Node 20's bind once, and GrpcChannel installs it", () => {
    expect(process.versions.node.split(".")[0]).toBe("20");
    new GrpcChannel("127.0.0.1:1").close();
    expect(AsyncResource.prototype.bind).not.toBe(nodeBind);
    const installed = AsyncResource.prototype.bind;
    expect(installAsyncResourceBind()).toBe(true);
    expect(AsyncResource.prototype.bind).toBe(installed);
  });

  it("runs the function in the resource's async scope, with the store it was made in", () => {
    installAsyncResourceBind();
    const als = new AsyncLocalStorage<string>();
    const resource = als.run("made-here", () => new AsyncResource("test"));
    const bound = resource.bind(() => [executionAsyncId(), als.getStore()]);
    expect(als.run("called-here", () => bound())).toEqual([resource.asyncId(), "made-here"]);
    // AsyncResource.bind (static) and AsyncLocalStorage.bind go through it too.
    const viaStatic = als.run("static", () => AsyncResource.bind(() => als.getStore()));
    expect(viaStatic()).toBe("static");
    const viaAls = als.run("als", () => AsyncLocalStorage.bind(() => als.getStore()));
    expect(viaAls()).toBe("als");
  });

  it("passes the caller's this and the arguments, or thisArg when given, and keeps length", () => {
    installAsyncResourceBind();
    const resource = new AsyncResource("test");
    function f(this: unknown, a: number, b: number, c: number) {
      return { self: this, sum: a + b + c };
    }
    const bound = resource.bind(f);
    expect(bound.length).toBe(3);
    const holder = { m: bound };
    expect(holder.m(1, 2, 3)).toEqual({ self: holder, sum: 6 });
    // @types/node lists no thisArg on the instance method; Node has it since 14.
    const withThis = Reflect.apply(resource.bind, resource, [f, "given"]) as typeof f;
    expect(withThis.length).toBe(3);
    expect(holder.m.call({ other: true }, 1, 1, 1).sum).toBe(3);
    expect(withThis.call(undefined, 1, 1, 1)).toEqual({
      self: "given",
      sum: 3,
    });
    const zero = resource.bind(() => 0);
    expect(zero.length).toBe(0);
    expect(Object.getOwnPropertyDescriptor(zero, "length")).toMatchObject({
      configurable: true,
      enumerable: false,
      writable: false,
    });
    const lengthDescriptor = Object.getOwnPropertyDescriptor(bound, "length");
    expect(lengthDescriptor).toMatchObject({
      configurable: true,
      enumerable: false,
      writable: false,
    });
  });

  it("keeps the deprecated asyncResource accessor, warning DEP0172 once", () => {
    installAsyncResourceBind();
    const emitWarning = vi.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    const resource = new AsyncResource("test");
    const bound = resource.bind(() => 1) as unknown as { asyncResource: AsyncResource };
    const descriptor = Object.getOwnPropertyDescriptor(bound, "asyncResource");
    expect(descriptor?.enumerable).toBe(true);
    expect(descriptor?.configurable).toBe(true);
    expect(bound.asyncResource).toBe(resource);
    const other = new AsyncResource("other");
    bound.asyncResource = other;
    expect(bound.asyncResource).toBe(other);
    expect((resource.bind(() => 2) as unknown as typeof bound).asyncResource).toBe(resource);
    expect(emitWarning).toHaveBeenCalledTimes(1);
    expect(emitWarning.mock.calls[0]?.slice(0, 3)).toEqual([
      "The asyncResource property on bound functions is deprecated",
      "DeprecationWarning",
      "DEP0172",
    ]);
  });

  it("throws Node's own error for a non-function", () => {
    installAsyncResourceBind();
    const resource = new AsyncResource("test");
    expect(() => resource.bind(42 as unknown as () => void)).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARG_TYPE" }),
    );
  });

  it("node:http2 requests run on it: calls before and after the session connected", async () => {
    const server = await startEchoServer();
    const channel = new GrpcChannel(server.address);
    try {
      // The first calls are queued until the session connects (bound 'connect' callbacks).
      const first = await Promise.all(
        [1, 2, 3].map((i) => channel.unary(Unary, { text: `q${i}` })),
      );
      expect(first.map((r) => r.text)).toEqual(["q1", "q2", "q3"]);
      expect((await channel.unary(Unary, { text: "later" })).text).toBe("later");
    } finally {
      channel.close();
      await server.stop();
    }
  });
});
