import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  contextsTable,
  resolveConnection,
  setCluster,
  setContext,
  setCredentials,
  useContext,
  viewConfig,
} from "../../src/config/config-ops.js";
import {
  configPath,
  emptyConfig,
  formatConfig,
  loadConfig,
  parseConfig,
  saveConfig,
  type TugConfig,
} from "../../src/config/tug-config.js";

function sample(): TugConfig {
  const config = emptyConfig();
  setCluster(config, "local", "127.0.0.1:6443");
  setCluster(config, "lab", "https://10.0.0.5:6443");
  setCredentials(config, "admin", "s3cret");
  setContext(config, "dev", false, { cluster: "local", user: "admin", namespace: "dev" });
  setContext(config, "lab", false, { cluster: "lab", user: "admin" });
  useContext(config, "dev");
  return config;
}

describe("config file", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "tug-cli-config-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("lives at $TUGCONFIG, else ~/.tug/config", () => {
    expect(configPath({ TUGCONFIG: "/etc/tug.yaml", HOME: "/root" })).toBe("/etc/tug.yaml");
    expect(configPath({ HOME: "/home/ann" })).toBe("/home/ann/.tug/config");
  });

  it("reads a missing file as empty and round-trips through YAML, owner-only", async () => {
    const path = join(dir, "sub", "config");
    expect(await loadConfig(path)).toEqual(emptyConfig());
    await saveConfig(path, sample());
    expect(await loadConfig(path)).toEqual(sample());
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const text = await readFile(path, "utf8");
    expect(text).toContain("current-context: dev");
    expect(text).toContain("clusters:\n- name: local\n  cluster:\n    server: 127.0.0.1:6443\n");
  });

  it("reads a kubeconfig-shaped file written by hand, and names the file on bad YAML", () => {
    const config = parseConfig(
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- cluster: {server: 'h:1'}",
        "  name: c",
        "users:",
        "- name: u",
        "  user: {token: t}",
        "contexts:",
        "- context: {cluster: c, user: u}",
        "  name: x",
        "current-context: x",
        "preferences: {}",
      ].join("\n"),
      "/cfg",
    );
    expect(resolveConnection(config, {})).toEqual({
      server: "h:1",
      token: "t",
      namespace: "default",
      explicitNamespace: false,
    });
    expect(() => parseConfig("clusters: [", "/cfg")).toThrow(/config file \/cfg is not valid YAML/);
    expect(() => parseConfig("clusters: 3", "/cfg")).toThrow(/clusters: expected a list/);
  });

  it("view redacts tokens unless raw", () => {
    const config = sample();
    expect(viewConfig(config, false).users).toEqual([
      { name: "admin", user: { token: "REDACTED" } },
    ]);
    expect(viewConfig(config, true).users[0]?.user.token).toBe("s3cret");
    expect(formatConfig(viewConfig(config, false))).not.toContain("s3cret");
  });
});

describe("config verbs", () => {
  it("use-context switches, and refuses a context that does not exist", () => {
    const config = sample();
    expect(useContext(config, "lab")).toBe('Switched to context "lab".');
    expect(config["current-context"]).toBe("lab");
    expect(() => useContext(config, "nope")).toThrow('no context exists with the name: "nope"');
  });

  it("set-context creates, modifies, and --current edits the current one", () => {
    const config = sample();
    expect(setContext(config, "new", false, { cluster: "local" })).toBe('Context "new" created.');
    expect(setContext(config, undefined, true, { namespace: "kube-system" })).toBe(
      'Context "dev" modified.',
    );
    expect(config.contexts.find((c) => c.name === "dev")?.context).toEqual({
      cluster: "local",
      user: "admin",
      namespace: "kube-system",
    });
    expect(() => setContext(config, "x", true, {})).toThrow(/both a context name and --current/);
    expect(() => setContext(emptyConfig(), undefined, true, {})).toThrow(/no current context/);
  });

  it("get-contexts marks the current context with *", () => {
    expect(contextsTable(sample())).toBe(
      [
        "CURRENT   NAME   CLUSTER   AUTHINFO   NAMESPACE",
        "*         dev    local     admin      dev",
        "          lab    lab       admin      ",
        "",
      ].join("\n"),
    );
    expect(() => contextsTable(sample(), "nope")).toThrow(/context nope not found/);
  });
});

describe("resolveConnection", () => {
  it("takes server, token and namespace from the current context", () => {
    expect(resolveConnection(sample(), {})).toEqual({
      server: "127.0.0.1:6443",
      token: "s3cret",
      namespace: "dev",
      explicitNamespace: false,
    });
  });

  it("lets flags override, strips a URL scheme, and follows --context", () => {
    expect(resolveConnection(sample(), { context: "lab" }).server).toBe("10.0.0.5:6443");
    expect(resolveConnection(sample(), { context: "lab" }).namespace).toBe("default");
    expect(resolveConnection(sample(), { server: "h:9", token: "t2", namespace: "prod" })).toEqual({
      server: "h:9",
      token: "t2",
      namespace: "prod",
      explicitNamespace: true,
    });
  });

  it("defaults to 127.0.0.1:6443 with no config, and names a missing context", () => {
    expect(resolveConnection(emptyConfig(), {}).server).toBe("127.0.0.1:6443");
    expect(() => resolveConnection(sample(), { context: "gone" })).toThrow(
      /context was not found for specified context: gone/,
    );
  });
});
