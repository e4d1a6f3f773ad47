import { describe, expect, it } from "vitest";
import { emptyConfig, formatConfig, parseConfig } from "../../src/config/tug-config.js";
import { withLocalCluster } from "../../src/local-cluster/local-config.js";

describe("withLocalCluster", () => {
  it("adds cluster, user and context tug-local and makes it current", () => {
    const config = withLocalCluster(emptyConfig(), "127.0.0.1:6443");
    expect(config.clusters).toEqual([{ name: "tug-local", cluster: { server: "127.0.0.1:6443" } }]);
    expect(config.users).toEqual([{ name: "tug-local", user: {} }]);
    expect(config.contexts).toEqual([
      { name: "tug-local", context: { cluster: "tug-local", user: "tug-local" } },
    ]);
    expect(config["current-context"]).toBe("tug-local");
    // What is written reads back the same.
    expect(parseConfig(formatConfig(config), "config")).toEqual(config);
  });

  it("replaces an older tug-local entry and keeps the user's other entries", () => {
    const start = {
      ...emptyConfig(),
      clusters: [
        { name: "prod", cluster: { server: "10.0.0.1:6443" } },
        { name: "tug-local", cluster: { server: "127.0.0.1:7443" } },
      ],
      users: [{ name: "admin", user: { token: "t" } }],
      contexts: [{ name: "prod", context: { cluster: "prod", user: "admin" } }],
      "current-context": "prod",
    };
    const config = withLocalCluster(start, "127.0.0.1:6543");
    expect(config.clusters).toEqual([
      { name: "prod", cluster: { server: "10.0.0.1:6443" } },
      { name: "tug-local", cluster: { server: "127.0.0.1:6543" } },
    ]);
    expect(config.users.map((u) => u.name)).toEqual(["admin", "tug-local"]);
    expect(config.contexts.map((c) => c.name)).toEqual(["prod", "tug-local"]);
    expect(config["current-context"]).toBe("tug-local");
    expect(start["current-context"]).toBe("prod");
  });
});
