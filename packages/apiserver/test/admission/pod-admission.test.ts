import type { Pod } from "@tug/api";
import { describe, expect, it } from "vitest";
import {
  defaultTolerationSeconds,
  defaultTolerationSecondsPlugin,
} from "../../src/admission/default-toleration-seconds.js";
import { serviceAccount } from "../../src/admission/service-account.js";
import { json, obj } from "../registry/support.js";
import { attrs, failure, lookups } from "./support.js";

const pod = (spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}) =>
  obj<Pod>({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web", namespace: "default", ...metadata },
    spec: { containers: [{ name: "c", image: "busybox" }], ...spec },
  });

describe("ServiceAccount", () => {
  it.each([
    { name: "defaults to default", spec: {}, accounts: ["default/default"], want: "default" },
    {
      name: "keeps a named account",
      spec: { serviceAccountName: "builder" },
      accounts: ["default/builder"],
      want: "builder",
    },
    {
      name: "reads the deprecated field",
      spec: { serviceAccount: "builder" },
      accounts: ["default/builder"],
      want: "builder",
    },
  ])("$name", async ({ spec, accounts, want }) => {
    const p = pod(spec);
    await serviceAccount.mutate!(
      attrs("CREATE", "pods", p),
      lookups({ serviceAccounts: accounts }),
    );
    expect(p.spec?.serviceAccountName).toBe(want);
    expect(p.spec?.serviceAccount).toBe(want);
  });

  it.each([
    {
      spec: { serviceAccountName: "ghost" },
      message:
        'pods "web" is forbidden: error looking up service account default/ghost: serviceaccount "ghost" not found',
    },
    {
      spec: {},
      message:
        'pods "web" is forbidden: error looking up service account default/default: serviceaccount "default" not found',
    },
  ])("rejects a missing account: $message", async ({ spec, message }) => {
    const got = await failure(() =>
      serviceAccount.mutate!(attrs("CREATE", "pods", pod(spec)), lookups({ serviceAccounts: [] })),
    );
    expect(got).toEqual({ reason: "Forbidden", message });
  });

  it("leaves mirror pods, updates and other kinds alone", async () => {
    const none = lookups({ serviceAccounts: [] });
    const mirror = pod({}, { annotations: { "kubernetes.io/config.mirror": "x" } });
    await serviceAccount.mutate!(attrs("CREATE", "pods", mirror), none);
    expect(mirror.spec?.serviceAccountName).toBe("");
    const updated = pod();
    await serviceAccount.mutate!(attrs("UPDATE", "pods", updated), none);
    expect(updated.spec?.serviceAccountName).toBe("");
    const status = pod();
    await serviceAccount.mutate!(attrs("CREATE", "pods", status, { subresource: "status" }), none);
    expect(status.spec?.serviceAccountName).toBe("");
  });
});

describe("DefaultTolerationSeconds", () => {
  const notReady = {
    key: "node.kubernetes.io/not-ready",
    operator: "Exists",
    effect: "NoExecute",
    tolerationSeconds: 300,
  };
  const unreachable = {
    key: "node.kubernetes.io/unreachable",
    operator: "Exists",
    effect: "NoExecute",
    tolerationSeconds: 300,
  };
  it.each([
    { name: "none", given: [], want: [notReady, unreachable] },
    {
      name: "own not-ready toleration kept",
      given: [
        {
          key: "node.kubernetes.io/not-ready",
          operator: "Exists",
          effect: "NoExecute",
          tolerationSeconds: 10,
        },
      ],
      want: [
        {
          key: "node.kubernetes.io/not-ready",
          operator: "Exists",
          effect: "NoExecute",
          tolerationSeconds: 10,
        },
        unreachable,
      ],
    },
    {
      name: "tolerate everything",
      given: [{ operator: "Exists" }],
      want: [{ operator: "Exists" }],
    },
    {
      name: "empty effect covers NoExecute",
      given: [{ key: "node.kubernetes.io/unreachable", operator: "Exists" }],
      want: [{ key: "node.kubernetes.io/unreachable", operator: "Exists" }, notReady],
    },
    {
      name: "NoSchedule does not count",
      given: [{ key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoSchedule" }],
      want: [
        { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoSchedule" },
        notReady,
        unreachable,
      ],
    },
  ])("$name", async ({ given, want }) => {
    const p = pod({ tolerations: given });
    await defaultTolerationSeconds.mutate!(attrs("CREATE", "pods", p), lookups());
    expect((json(p).spec as { tolerations: unknown }).tolerations).toEqual(want);
  });

  it("takes the seconds of --default-not-ready- and --default-unreachable-toleration-seconds", async () => {
    const p = pod();
    await defaultTolerationSecondsPlugin(20, 2).mutate!(attrs("CREATE", "pods", p), lookups());
    expect((json(p).spec as { tolerations: unknown }).tolerations).toEqual([
      { ...notReady, tolerationSeconds: 20 },
      { ...unreachable, tolerationSeconds: 2 },
    ]);
  });

  it("ignores other kinds and subresources", async () => {
    const p = pod();
    await defaultTolerationSeconds.mutate!(
      attrs("CREATE", "pods", p, { subresource: "binding" }),
      lookups(),
    );
    expect(p.spec?.tolerations).toEqual([]);
  });
});
