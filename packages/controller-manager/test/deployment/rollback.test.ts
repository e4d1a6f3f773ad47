// Rollback as kubectl does it: which ReplicaSet, and what is copied into the Deployment.

import { create } from "@bufbuild/protobuf";
import { DeploymentSchema, type ReplicaSet, ReplicaSetSchema } from "@tug/api";
import { describe, expect, it } from "vitest";
import {
  POD_TEMPLATE_HASH_LABEL,
  REVISION_ANNOTATION,
  replicaSetForRevision,
  rolledBackDeployment,
} from "../../src/index.js";

function rs(name: string, revision: number, image = "busybox:1"): ReplicaSet {
  return create(ReplicaSetSchema, {
    metadata: {
      name,
      annotations: { [REVISION_ANNOTATION]: String(revision), team: `t-${name}` },
    },
    spec: {
      template: {
        metadata: { labels: { app: "web", [POD_TEMPLATE_HASH_LABEL]: "h" } },
        spec: { containers: [{ name: "main", image }] },
      },
    },
  });
}

describe("replicaSetForRevision (kubectl's rsForRevision)", () => {
  const rss = [rs("a", 1), rs("c", 3), rs("b", 2)];

  it("0 means the revision before the latest", () => {
    expect(replicaSetForRevision("web", rss, 0).metadata?.name).toBe("b");
  });

  it("finds a named revision", () => {
    expect(replicaSetForRevision("web", rss, 1).metadata?.name).toBe("a");
  });

  it("says so when the revision or any history is missing, in kubectl's words", () => {
    expect(() => replicaSetForRevision("web", rss, 9)).toThrow(
      "unable to find specified revision 9 in history",
    );
    expect(() => replicaSetForRevision("web", [rs("a", 1)], 0)).toThrow(
      'no rollout history found for deployment "web"',
    );
  });
});

describe("rolledBackDeployment", () => {
  it("takes the template without pod-template-hash and the ReplicaSet's annotations, keeping the Deployment's own", () => {
    const d = create(DeploymentSchema, {
      metadata: {
        name: "web",
        resourceVersion: "42",
        annotations: {
          [REVISION_ANNOTATION]: "3",
          "kubectl.kubernetes.io/last-applied-configuration": "{}",
          team: "current",
        },
      },
      spec: {
        template: {
          metadata: { labels: { app: "web" } },
          spec: { containers: [{ name: "main", image: "busybox:3" }] },
        },
      },
    });
    const next = rolledBackDeployment(d, rs("a", 1, "busybox:1"));
    expect(next.spec?.template?.metadata?.labels).toEqual({ app: "web" });
    expect(next.spec?.template?.spec?.containers[0]?.image).toBe("busybox:1");
    expect(next.metadata?.annotations).toEqual({
      [REVISION_ANNOTATION]: "3",
      "kubectl.kubernetes.io/last-applied-configuration": "{}",
      team: "t-a",
    });
    expect(next.metadata?.resourceVersion).toBe("42");
    expect(d.spec?.template?.spec?.containers[0]?.image).toBe("busybox:3");
  });
});
