import { describe, expect, it } from "vitest";
import { ConfigError, parseDuration, parseSettings } from "../../src/process/settings.js";

function run(argv: string[], env: Record<string, string> = {}, file?: string) {
  const r = parseSettings(argv, { env, readFile: () => file ?? "" });
  if (r.kind !== "run") throw new Error(`expected settings, got exit ${r.code}: ${r.output}`);
  return r.settings;
}

describe("tug-scheduler settings", () => {
  it("has kube-scheduler's defaults", () => {
    const s = run(["--master=127.0.0.1:6443"]);
    expect(s).toMatchObject({
      master: ["127.0.0.1:6443"],
      securePort: 10259,
      schedulerName: "default-scheduler",
      percentageOfNodesToScore: 0,
      podInitialBackoffMs: 1000,
      podMaxBackoffMs: 10_000,
      leaderElect: true,
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      leaseNamespace: "kube-system",
      leaseName: "kube-scheduler",
      logLevel: "info",
    });
  });

  it("layers flag over environment over config file", () => {
    const file = JSON.stringify({
      master: ["a:1", "b:2"],
      "secure-port": 1,
      "leader-elect": false,
      "log-level": "warn",
    });
    const s = run(
      ["--config=c.json", "--secure-port=3"],
      { TUG_SCHEDULER_SECURE_PORT: "2", TUG_SCHEDULER_LOG_LEVEL: "debug" },
      file,
    );
    expect(s.master).toEqual(["a:1", "b:2"]);
    expect(s.securePort).toBe(3);
    expect(s.logLevel).toBe("debug");
    expect(s.leaderElect).toBe(false);
  });

  it("names the setting, where it came from, and the fix", () => {
    expect(() => run([])).toThrow(/--master is required/);
    expect(() => run(["--master=x:1"], { TUG_SCHEDULER_POD_MAX_BACKOFF: "soon" })).toThrow(
      /--pod-max-backoff \(set by TUG_SCHEDULER_POD_MAX_BACKOFF\) "soon" is not a positive duration/,
    );
    expect(() => run(["--master=x:1", "--leader-elect=yes"])).toThrow(
      /--leader-elect "yes" is not a boolean; give true or false/,
    );
    expect(() => run(["--master=x:1", "--percentage-of-nodes-to-score=150"])).toThrow(ConfigError);
    expect(() => run(["--master=x:1", "--config=c.json"], {}, '{"bogus": 1}')).toThrow(
      /"bogus" in c.json is not a tug-scheduler setting/,
    );
    expect(() => run(["--master=x:1", "--leader-elect-lease-duration=5s"])).toThrow(
      /must be greater than --leader-elect-renew-deadline/,
    );
  });

  it("answers --help and rejects unknown flags with exit 2", () => {
    const help = parseSettings(["--help"], { env: {} });
    expect(help).toMatchObject({ kind: "exit", code: 0, stream: "stdout" });
    if (help.kind === "exit") expect(help.output).toContain("--percentage-of-nodes-to-score");
    expect(parseSettings(["--nope"], { env: {} })).toMatchObject({ kind: "exit", code: 2 });
  });

  it("parses Go durations", () => {
    expect(parseDuration("1m30s")).toBe(90_000);
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("10")).toBeUndefined();
  });
});
