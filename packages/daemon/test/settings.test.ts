// Settings layered flag > environment > config file > default, read as typed values whose
// problems name the setting as the operator spelled it.

import { describe, expect, it } from "vitest";
import {
  ConfigError,
  gatherSettings,
  helpText,
  parseDuration,
  type SettingsCommand,
  type SettingsReader,
} from "../src/index.js";

const COMMAND: SettingsCommand = {
  name: "tug-test",
  description: "A daemon for tests.",
  helpAfter: "Every flag can also be set as TUG_TEST_<FLAG>.",
  envPrefix: "TUG_TEST_",
  configFlag: "config",
  configFormat: "yaml",
  configExample: '"port: 80"',
  flags: [
    { name: "port", arg: "<port>", description: "the port", default: "80" },
    { name: "servers", arg: "<urls>", description: "servers, comma-separated" },
    { name: "timeout", arg: "<duration>", description: "a timeout", default: "10s" },
    { name: "enabled", arg: "<bool>", description: "on or off", default: "true" },
    {
      name: "log-level",
      arg: "<level>",
      description: "debug, info, warn or error",
      default: "info",
    },
  ],
  aliases: { server: "servers" },
};

function gather(
  argv: string[],
  env: Record<string, string> = {},
  files: Record<string, string> = {},
  command: SettingsCommand = COMMAND,
): SettingsReader {
  const r = gatherSettings(command, argv, {
    env,
    readFile: (p) => {
      const text = files[p];
      if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${p}'`);
      return text;
    },
  });
  if (r.kind !== "run") throw new Error(r.output);
  return r.settings;
}

describe("gatherSettings", () => {
  it("takes a flag over the environment over the file over the default", () => {
    const files = { "/c.yaml": "port: 81\nservers: [a:1, b:2]\ntimeout: 1m\n" };
    const fromFile = gather(["--config=/c.yaml"], {}, files);
    expect([fromFile.port("port"), fromFile.list("servers")]).toEqual([81, ["a:1", "b:2"]]);
    expect(fromFile.positiveDuration("timeout")).toBe(60_000);
    expect(fromFile.bool("enabled")).toBe(true);
    const fromEnv = gather([], { TUG_TEST_CONFIG: "/c.yaml", TUG_TEST_PORT: "82" }, files);
    expect(fromEnv.port("port")).toBe(82);
    const fromFlag = gather(["--config", "/c.yaml", "--port=83"], { TUG_TEST_PORT: "82" }, files);
    expect(fromFlag.port("port")).toBe(83);
    expect(gather([]).port("port")).toBe(80);
    expect(gather(["--server=x:1"]).list("servers")).toEqual(["x:1"]);
    expect(fromFlag.problems).toEqual([]);
  });

  it("names where a bad value came from, and gathers every problem into one ConfigError", () => {
    const s = gather(["--port=70000"], { TUG_TEST_TIMEOUT: "soon", TUG_TEST_ENABLED: "yes" });
    s.port("port");
    s.positiveDuration("timeout");
    s.bool("enabled");
    s.problem(`${s.describe("servers")} is required`);
    expect(s.problems).toEqual([
      '--port "70000" is not a port; give a number from 0 to 65535',
      '--timeout (set by TUG_TEST_TIMEOUT) "soon" is not a positive duration; write it as Go does, e.g. 10s, 1m',
      '--enabled (set by TUG_TEST_ENABLED) "yes" is not a boolean; give true or false',
      "--servers is required",
    ]);
    expect(() => s.check()).toThrow(ConfigError);
    expect(() => s.check()).toThrow(/^invalid configuration:\n {2}- --port "70000"/);
    const fromFile = gather(["--config=/c"], {}, { "/c": "log-level: loud" });
    expect(fromFile.logLevel()).toBe("debug");
    expect(fromFile.problems).toEqual([
      '--log-level (set by "log-level" in /c) "loud" is not one of debug, info, warn, error',
    ]);
  });

  it("refuses unknown environment variables and config keys, suggesting the near one", () => {
    expect(gather([], { TUG_TEST_PROT: "1", OTHER: "x" }).problems).toEqual([
      "TUG_TEST_PROT in the environment is not a tug-test setting (did you mean TUG_TEST_PORT?); unset it or fix its name",
    ]);
    const p = (file: string) => gather(["--config=/c"], {}, { "/c": file }).problems;
    expect(p("log_level: info")).toEqual([
      '"log_level" in /c is not a tug-test setting (did you mean "log-level"?); remove it or fix its name (keys are the flags without the dashes)',
    ]);
    expect(p("- a\n- b")).toEqual([
      '--config /c must be a YAML mapping of settings (e.g. "port: 80"), not a list',
    ]);
    expect(p("port: {a: 1}")).toEqual([
      '"port" in /c must be a string, a number or a list of strings',
    ]);
    expect(p("a: [1")[0]).toMatch(/^--config \/c is not valid YAML: /);
    expect(gather(["--config=/nope"]).problems[0]).toMatch(
      /^--config \/nope cannot be read \(ENOENT.*\); fix the path or create the file$/,
    );
    const json = { ...COMMAND, configFormat: "json" as const, configExample: '{"port": 80}' };
    expect(gather(["--config=/c"], {}, { "/c": "port: 1" }, json).problems[0]).toMatch(
      /^--config \/c is not valid JSON: /,
    );
    expect(gather(["--config=/c"], {}, { "/c": '{"port": 84}' }, json).port("port")).toBe(84);
  });

  it("answers --help, --version and usage errors with an exit", () => {
    const help = gatherSettings(COMMAND, ["--help"], { env: {} });
    expect(help).toMatchObject({ kind: "exit", code: 0, stream: "stdout" });
    expect(help.kind === "exit" && help.output).toContain("--timeout <duration>");
    expect(help.kind === "exit" && help.output).toContain("set as TUG_TEST_<FLAG>.");
    expect(helpText(COMMAND)).toContain("--server <urls>       alias of --servers");
    expect(gatherSettings(COMMAND, ["--version"], { env: {}, version: "9.9" })).toMatchObject({
      kind: "exit",
      code: 0,
      output: "9.9\n",
    });
    const bad = gatherSettings(COMMAND, ["--prot=1"], { env: {} });
    expect(bad).toMatchObject({ kind: "exit", code: 2, stream: "stderr" });
    expect(bad.kind === "exit" && bad.output).toContain("Run tug-test --help for the flags.");
    expect(gatherSettings(COMMAND, ["serve"], { env: {} })).toMatchObject({ code: 2 });
    expect(gatherSettings(COMMAND, ["-port=1"], { env: {} })).toMatchObject({ code: 2 });
    const goStyle = { ...COMMAND, singleDashFlags: true };
    const s = gatherSettings(goStyle, ["-port=1"], { env: {} });
    expect(s.kind === "run" && s.settings.port("port")).toBe(1);
  });

  it("takes switches and optional values as true when given bare", () => {
    const withSwitches: SettingsCommand = {
      ...COMMAND,
      flags: [
        ...COMMAND.flags,
        { name: "cleanup", arg: "", description: "clean up and exit", default: "false" },
        { name: "proxy", arg: "[enabled]", description: "run the proxy", default: "true" },
      ],
    };
    const bare = gather(["--cleanup", "--proxy"], {}, {}, withSwitches);
    expect([bare.bool("cleanup"), bare.bool("proxy")]).toEqual([true, true]);
    const given = gather(["--proxy", "false"], { TUG_TEST_CLEANUP: "true" }, {}, withSwitches);
    expect([given.bool("cleanup"), given.bool("proxy")]).toEqual([true, false]);
    expect(gather([], {}, {}, withSwitches).bool("cleanup")).toBe(false);
  });

  it("reads counts and durations that may be 0", () => {
    const withCount: SettingsCommand = {
      ...COMMAND,
      flags: [...COMMAND.flags, { name: "max", arg: "<n>", description: "most", default: "0" }],
    };
    const s = gather(["--max=-1", "--timeout=0"], {}, {}, withCount);
    expect(s.count("max", " (no limit)")).toBe(0);
    expect(s.duration("timeout")).toBe(0);
    expect(s.problems).toEqual(['--max "-1" is not a count; give 0 (no limit) or more']);
  });
});

describe("parseDuration", () => {
  it("reads Go durations in milliseconds", () => {
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("1.5s")).toBe(1_500);
    expect(parseDuration("0")).toBe(0);
    for (const bad of ["5", "", "1x", "-1s", "1s "]) expect(parseDuration(bad)).toBeUndefined();
  });
});
