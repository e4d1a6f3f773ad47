// A container's environment and config: envFrom then env, $(VAR) expansion, ConfigMap/Secret
// refs with optional, the downward API, the kubelet's CreateContainerConfigError messages, and
// resources as cgroup limits.

import { create } from "@bufbuild/protobuf";
import { ConfigMapSchema, type Container, objectFromJson, type Pod, SecretSchema } from "@tug/api";
import { describe, expect, it } from "vitest";
import { expandEnvReferences } from "../src/index.js";
import type { ConfigSources } from "../src/pods/config-sources.js";
import { linuxResources } from "../src/pods/container-config.js";
import { containerEnv } from "../src/pods/container-env.js";

const sources: ConfigSources = {
  configMap: async (ns, name) =>
    ns === "default" && name === "cm"
      ? create(ConfigMapSchema, { data: { A: "a", B: "b", "not valid": "x" } })
      : undefined,
  secret: async (ns, name) =>
    ns === "default" && name === "s"
      ? create(SecretSchema, { data: { P: Buffer.from("pw") } })
      : undefined,
  persistentVolumeClaim: async () => undefined,
  persistentVolume: async () => undefined,
};

const facts = {
  podIp: "10.1.2.3",
  hostIp: "192.168.0.9",
  allocatable: { cpu: "2", memory: "1Gi" },
};

function podWith(container: Record<string, unknown>): { pod: Pod; c: Container } {
  const pod = objectFromJson({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web", namespace: "default", uid: "u-1", labels: { app: "x" } },
    spec: {
      nodeName: "n1",
      serviceAccountName: "sa",
      containers: [{ name: "main", image: "i", ...container }],
    },
  }) as Pod;
  return { pod, c: pod.spec?.containers[0] as Container };
}

describe("expandEnvReferences", () => {
  it("expands known $(VAR), keeps unknown ones, and turns $$ into $", () => {
    const vars = new Map([["A", "1"]]);
    expect(expandEnvReferences("$(A)-$(B)-$$(A)-$$", vars)).toBe("1-$(B)-$(A)-$");
  });
});

describe("containerEnv", () => {
  it("builds envFrom first, then env in order with references, refs and downward API fields", async () => {
    const { pod, c } = podWith({
      envFrom: [{ prefix: "CM_", configMapRef: { name: "cm" } }, { secretRef: { name: "s" } }],
      env: [
        { name: "CM_A", value: "overridden" },
        { name: "X", value: "$(CM_B)/$(P)" },
        { name: "NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        { name: "APP", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: "IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
        { name: "HOST", valueFrom: { fieldRef: { fieldPath: "status.hostIP" } } },
        { name: "SA", valueFrom: { fieldRef: { fieldPath: "spec.serviceAccountName" } } },
        {
          name: "MEM",
          valueFrom: { resourceFieldRef: { resource: "limits.memory", divisor: "1Mi" } },
        },
        { name: "KEY", valueFrom: { configMapKeyRef: { name: "cm", key: "A" } } },
        { name: "OPT", valueFrom: { secretKeyRef: { name: "s", key: "nope", optional: true } } },
      ],
    });
    const env = await containerEnv(pod, c, sources, facts);
    expect(Object.fromEntries(env.map((e) => [e.name, e.value]))).toEqual({
      CM_A: "overridden",
      CM_B: "b",
      P: "pw",
      X: "b/pw",
      NAME: "web",
      APP: "x",
      IP: "10.1.2.3",
      HOST: "192.168.0.9",
      SA: "sa",
      MEM: "1024",
      KEY: "a",
    });
  });

  it("fails with the kubelet's messages for missing objects and keys", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [
        { env: [{ name: "K", valueFrom: { configMapKeyRef: { name: "cm", key: "Z" } } }] },
        "couldn't find key Z in ConfigMap default/cm",
      ],
      [
        { env: [{ name: "K", valueFrom: { secretKeyRef: { name: "s", key: "Z" } } }] },
        "couldn't find key Z in Secret default/s",
      ],
      [
        { env: [{ name: "K", valueFrom: { configMapKeyRef: { name: "gone", key: "Z" } } }] },
        'configmap "gone" not found',
      ],
      [{ envFrom: [{ secretRef: { name: "gone" } }] }, 'secret "gone" not found'],
    ];
    for (const [spec, message] of cases) {
      const { pod, c } = podWith(spec);
      await expect(containerEnv(pod, c, sources, facts)).rejects.toMatchObject({
        reason: "CreateContainerConfigError",
        message,
      });
    }
  });
});

describe("linuxResources", () => {
  it("maps requests.cpu to shares, limits.cpu to a CFS quota and limits.memory to a byte limit", () => {
    const { c } = podWith({
      resources: { requests: { cpu: "250m" }, limits: { cpu: "500m", memory: "64Mi" } },
    });
    const r = linuxResources(c);
    expect(r.cpuShares).toBe(256n);
    expect(r.cpuPeriod).toBe(100_000n);
    expect(r.cpuQuota).toBe(50_000n);
    expect(r.memoryLimitInBytes).toBe(64n * 1024n * 1024n);
    const { c: tiny } = podWith({ resources: { requests: { cpu: "1m" } } });
    expect(linuxResources(tiny).cpuShares).toBe(2n);
    expect(linuxResources(tiny).cpuQuota).toBe(0n);
  });
});
