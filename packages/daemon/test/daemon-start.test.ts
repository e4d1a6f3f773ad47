// A daemon's first steps: its version from package.json, and settings or an exit.

import { describe, expect, it } from "vitest";
import { ConfigError, packageVersion, settingsOrExit } from "../src/index.js";

describe("packageVersion", () => {
  it("finds the named package.json above the module, else 0.0.0", () => {
    expect(packageVersion(import.meta.url, "@tug/daemon")).toBe("0.1.0");
    expect(packageVersion(import.meta.url, "@tug/nothing-by-this-name")).toBe("0.0.0");
  });
});

describe("settingsOrExit", () => {
  const run = (parse: Parameters<typeof settingsOrExit<number>>[1]) => {
    const out: string[] = [];
    const err: string[] = [];
    const r = settingsOrExit("tug-test", parse, {
      stdout: (s) => out.push(s),
      stderr: (s) => err.push(s),
    });
    return { r, out: out.join(""), err: err.join("") };
  };

  it("passes settings through, and prints an exit on its stream", () => {
    expect(run(() => ({ kind: "run", settings: 7 })).r).toEqual({ settings: 7 });
    const help = run(() => ({ kind: "exit", code: 0, output: "usage\n", stream: "stdout" }));
    expect(help).toEqual({ r: { exitCode: 0 }, out: "usage\n", err: "" });
    const usage = run(() => ({ kind: "exit", code: 2, output: "bad flag\n", stream: "stderr" }));
    expect(usage).toEqual({ r: { exitCode: 2 }, out: "", err: "bad flag\n" });
  });

  it("prints a ConfigError with a pointer to --help and exits 2; other errors propagate", () => {
    const bad = run(() => {
      throw new ConfigError(["--port is bad"]);
    });
    expect(bad).toEqual({
      r: { exitCode: 2 },
      out: "",
      err: "tug-test: invalid configuration: --port is bad\nRun tug-test --help for the flags.\n",
    });
    expect(() =>
      run(() => {
        throw new TypeError("a bug");
      }),
    ).toThrow(TypeError);
  });
});
