import { describe, expect, it } from "vitest";
import { describeError } from "../../src/api-status.js";
import { CliError } from "../../src/cli-error.js";
import { parseChanges } from "../../src/commands/label.js";
import { parseResourceArgs } from "../../src/commands/resource-args.js";
import { FakeApiError } from "../support/fake-client.js";

function shape(args: string[]) {
  return parseResourceArgs(args, "get").map((s) => [s.kind.resource, s.names]);
}

describe("parseResourceArgs", () => {
  it("reads TYPE NAME..., TYPE/NAME..., TYPE,TYPE and group-qualified types", () => {
    expect(shape(["po", "a", "b"])).toEqual([["pods", ["a", "b"]]]);
    expect(shape(["pod/a", "deploy/b", "pods/c"])).toEqual([
      ["pods", ["a", "c"]],
      ["deployments", ["b"]],
    ]);
    expect(shape(["pods,svc"])).toEqual([
      ["pods", []],
      ["services", []],
    ]);
    expect(shape(["deployments.v1.apps"])).toEqual([["deployments", []]]);
  });

  it("explains mixed forms and missing types", () => {
    expect(() => parseResourceArgs(["pods", "pod/a"], "get")).toThrow(/resource\/name form/);
    expect(() => parseResourceArgs(["pod/"], "get")).toThrow(/"pod\/" is not TYPE\/NAME/);
    expect(() => parseResourceArgs([], "delete")).toThrow(
      /you must specify the type of resource to delete/,
    );
  });
});

describe("parseChanges (label, annotate)", () => {
  it("splits resources, KEY=VALUE and KEY-", () => {
    const { resources, changes } = parseChanges(["pods", "web", "app=web", "tier-"], "labels");
    expect(resources).toEqual(["pods", "web"]);
    expect([...changes.set]).toEqual([["app", "web"]]);
    expect(changes.remove).toEqual(["tier"]);
  });

  it("refuses bad keys and values, and nothing to do", () => {
    expect(() => parseChanges(["pods", "web", "app=has space"], "labels")).toThrow(
      /invalid label value/,
    );
    expect(() => parseChanges(["pods", "web", "note=has space"], "annotations")).not.toThrow();
    expect(() => parseChanges(["pods", "web"], "labels")).toThrow(
      /at least one label update is required/,
    );
    expect(() => parseChanges(["pods", "web", "a=1", "a-"], "labels")).toThrow(
      /can not both modify and remove/,
    );
  });
});

describe("describeError", () => {
  it("prints API errors, invalid objects and local errors as kubectl", () => {
    expect(describeError(new FakeApiError("NotFound", 404, 'pods "web" not found'), "h:1")).toEqual(
      {
        text: 'Error from server (NotFound): pods "web" not found',
        exitCode: 1,
      },
    );
    expect(
      describeError(
        new FakeApiError("Invalid", 422, 'Pod "web" is invalid: spec.containers: Required value'),
        "h:1",
      ).text,
    ).toBe('The Pod "web" is invalid: spec.containers: Required value');
    expect(
      describeError(new FakeApiError("Unauthorized", 401, "Unauthorized"), "h:1").text,
    ).toMatch(/^error: You must be logged in to the server \(Unauthorized\)/);
    expect(describeError(new CliError("bad flag"), "h:1").text).toBe("error: bad flag");
    const refused = new Error("failed", { cause: new Error("connect ECONNREFUSED 10.0.0.1:6443") });
    expect(describeError(refused, "10.0.0.1:6443").text).toBe(
      "The connection to the server 10.0.0.1:6443 was refused - did you specify the right host or port?",
    );
  });
});
