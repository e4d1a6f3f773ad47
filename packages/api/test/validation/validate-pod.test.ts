// Pod validation: the common mistakes give Kubernetes' exact messages
// (pkg/apis/core/validation), and pod updates follow Kubernetes' immutability rules.

import { describe, expect, it } from "vitest";
import { objectFromJson } from "../../src/scheme/object-codec.js";
import { validateObject } from "../../src/validation/validate-object.js";
import { createErrors, type Json, pod, updateErrors } from "./validation-helpers.js";

const container = (fields: Json) => ({ name: "app", image: "tug/app:1", ...fields });

describe("pod metadata", () => {
  it.each<[string, Json, string[]]>([
    ["no name", { name: "" }, ["metadata.name: Required value: name or generateName is required"]],
    ["generateName only", { name: "", generateName: "web-" }, []],
    [
      "upper case name",
      { name: "Web" },
      [
        "metadata.name: Invalid value: \"Web\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      ],
    ],
    ["no namespace", { namespace: "" }, ["metadata.namespace: Required value"]],
    [
      "bad label value",
      { labels: { app: "-x" } },
      [
        "metadata.labels: Invalid value: \"-x\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue', or 'my_value', or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
      ],
    ],
    [
      "annotations over 256 KiB",
      { annotations: { big: "x".repeat(256 * 1024) } },
      ["metadata.annotations: Too long: must have at most 262144 bytes"],
    ],
    [
      "two controllers",
      {
        ownerReferences: [
          { apiVersion: "apps/v1", kind: "ReplicaSet", name: "a", uid: "1", controller: true },
          { apiVersion: "apps/v1", kind: "ReplicaSet", name: "b", uid: "2", controller: true },
        ],
      },
      [
        'metadata.ownerReferences: Invalid value: []string{"ReplicaSet/a", "ReplicaSet/b"}: Only one reference can have Controller set to true. Found "true" in references for ReplicaSet/a and ReplicaSet/b',
      ],
    ],
    [
      "owner without uid",
      { ownerReferences: [{ apiVersion: "v1", kind: "Node", name: "n" }] },
      ['metadata.ownerReferences.uid: Invalid value: "": uid must not be empty'],
    ],
    [
      "unqualified finalizer",
      { finalizers: ["hold"] },
      [
        'metadata.finalizers[0]: Invalid value: "hold": name is neither a standard finalizer name nor is it fully qualified',
      ],
    ],
  ])("%s", (_name, metadata, expected) => {
    expect(createErrors(pod({}, metadata))).toEqual(expected);
  });
});

describe("pod spec", () => {
  it.each<[string, Json, string[]]>([
    ["valid", {}, []],
    ["no containers", { containers: [] }, ["spec.containers: Required value"]],
    [
      "container without name",
      { containers: [{ image: "tug/app:1" }] },
      ["spec.containers[0].name: Required value"],
    ],
    [
      "container without image",
      { containers: [{ name: "app" }] },
      ["spec.containers[0].image: Required value"],
    ],
    [
      "duplicate container names across init and app containers",
      {
        initContainers: [{ name: "app", image: "tug/init:1" }],
        containers: [container({})],
      },
      ['spec.containers[0].name: Duplicate value: "app"'],
    ],
    [
      "container name not a DNS label",
      { containers: [container({ name: "my_app" })] },
      [
        "spec.containers[0].name: Invalid value: \"my_app\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      ],
    ],
    [
      "port out of range, duplicate port names, bad protocol",
      {
        containers: [
          container({
            ports: [
              { name: "http", containerPort: 70000 },
              { name: "http", containerPort: 80, protocol: "ICMP" },
              { containerPort: 0 },
            ],
          }),
        ],
      },
      [
        "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
        'spec.containers[0].ports[1].name: Duplicate value: "http"',
        'spec.containers[0].ports[1].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
        "spec.containers[0].ports[2].containerPort: Required value",
      ],
    ],
    [
      "port name too long and not IANA",
      { containers: [container({ ports: [{ name: "HTTP-web-frontend", containerPort: 80 }] })] },
      [
        'spec.containers[0].ports[0].name: Invalid value: "HTTP-web-frontend": must be no more than 15 characters',
        'spec.containers[0].ports[0].name: Invalid value: "HTTP-web-frontend": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
      ],
    ],
    [
      "env valueFrom with two sources and with none",
      {
        containers: [
          container({
            env: [
              {
                name: "A",
                valueFrom: {
                  fieldRef: { fieldPath: "metadata.name" },
                  secretKeyRef: { name: "s", key: "k" },
                },
              },
              { name: "B", valueFrom: {} },
              { name: "1C", value: "x" },
            ],
          }),
        ],
      },
      [
        'spec.containers[0].env[0].valueFrom: Invalid value: "": may not have more than one field specified at a time',
        'spec.containers[0].env[1].valueFrom: Invalid value: "": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`',
        "spec.containers[0].env[2].name: Invalid value: \"1C\": a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name', or 'MY_ENV.NAME', or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')",
      ],
    ],
    [
      "unsupported fieldRef",
      {
        containers: [
          container({
            env: [{ name: "A", valueFrom: { fieldRef: { fieldPath: "spec.hostname" } } }],
          }),
        ],
      },
      [
        'spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "spec.hostname": supported values: "metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"',
      ],
    ],
    [
      "requests above limits",
      { containers: [container({ resources: { limits: { cpu: "1" }, requests: { cpu: "2" } } })] },
      [
        'spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
      ],
    ],
    [
      "bad quantity and unknown resource",
      { containers: [container({ resources: { limits: { memory: "1GB", gpu: "1" } } })] },
      [
        `spec.containers[0].resources.limits[memory]: Invalid value: "1GB": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
        'spec.containers[0].resources.limits[gpu]: Invalid value: "gpu": must be a standard resource for containers',
        // Defaults copied the limits to the requests.
        `spec.containers[0].resources.requests[memory]: Invalid value: "1GB": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
        'spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a standard resource for containers',
      ],
    ],
    [
      "extended resource request without equal limit",
      { containers: [container({ resources: { requests: { "example.com/gpu": "1" } } })] },
      [
        "spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources",
      ],
    ],
    [
      "volume mount of a missing volume, duplicate mount path",
      {
        volumes: [{ name: "data", emptyDir: {} }],
        containers: [
          container({
            volumeMounts: [
              { name: "data", mountPath: "/data" },
              { name: "cache", mountPath: "/data" },
            ],
          }),
        ],
      },
      [
        'spec.containers[0].volumeMounts[1].name: Not found: "cache"',
        'spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/data": must be unique',
      ],
    ],
    [
      "volume with two sources, duplicate volume names",
      {
        volumes: [
          { name: "a", emptyDir: {}, hostPath: { path: "/x" } },
          { name: "a", secret: { secretName: "s", defaultMode: 511 + 1 } },
        ],
      },
      [
        "spec.volumes[0].emptyDir: Forbidden: may not specify more than 1 volume type",
        "spec.volumes[1].secret.defaultMode: Invalid value: 512: must be a number between 0 and 0777 (octal), both inclusive",
        'spec.volumes[1].name: Duplicate value: "a"',
      ],
    ],
    [
      "restartPolicy and dnsPolicy",
      { restartPolicy: "Sometimes", dnsPolicy: "Google" },
      [
        'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
        'spec.dnsPolicy: Unsupported value: "Google": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"',
      ],
    ],
    [
      "probe with two handlers and none",
      {
        containers: [
          container({
            livenessProbe: { exec: { command: ["true"] }, tcpSocket: { port: 80 } },
            readinessProbe: { periodSeconds: -1 },
          }),
        ],
      },
      [
        "spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type",
        "spec.containers[0].readinessProbe: Required value: must specify a handler type",
        "spec.containers[0].readinessProbe.periodSeconds: Invalid value: -1: must be greater than or equal to 0",
      ],
    ],
    [
      "liveness successThreshold and httpGet port name",
      {
        containers: [
          container({ livenessProbe: { httpGet: { port: "web_port" }, successThreshold: 2 } }),
        ],
      },
      [
        'spec.containers[0].livenessProbe.httpGet.port: Invalid value: "web_port": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
        "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
      ],
    ],
    [
      "probes on an init container",
      {
        initContainers: [
          { name: "init", image: "tug/init:1", readinessProbe: { exec: { command: ["true"] } } },
        ],
      },
      [
        "spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always",
      ],
    ],
    [
      "tolerations",
      {
        tolerations: [
          { operator: "Equal", value: "x" },
          { key: "k", operator: "Exists", value: "v" },
          { key: "k", effect: "NoSchedule", tolerationSeconds: 10 },
          { key: "k", operator: "Has" },
          { key: "k", effect: "Evict" },
        ],
      },
      [
        'spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys"',
        "spec.tolerations[1].operator: Invalid value: \"v\": value must be empty when `operator` is 'Exists'",
        "spec.tolerations[2].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set",
        'spec.tolerations[3].operator: Unsupported value: "Has": supported values: "Equal", "Exists"',
        'spec.tolerations[4].effect: Unsupported value: "Evict": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
      ],
    ],
    [
      "node selector label key",
      { nodeSelector: { "disk type": "ssd" } },
      [
        "spec.nodeSelector: Invalid value: \"disk type\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
      ],
    ],
    [
      "affinity terms",
      {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] },
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 0, preference: { matchExpressions: [{ key: "zone", operator: "In" }] } },
            ],
          },
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              { labelSelector: { matchLabels: { app: "web" } } },
            ],
          },
        },
      },
      [
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: Required value: must have at least one node selector term",
        "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: Invalid value: 0: must be in the range 1-100",
        "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].preference.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
        "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Required value: can not be empty",
      ],
    ],
    [
      "node selector operators: Gt and Lt take one value, unknown operators are refused",
      {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                {
                  matchExpressions: [
                    { key: "cores", operator: "Gt", values: ["4"] },
                    { key: "cores", operator: "Lt", values: ["8", "16"] },
                    { key: "zone", operator: "Near", values: ["a"] },
                  ],
                },
              ],
            },
          },
        },
      },
      [
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[1].values: Required value: must be specified single value when `operator` is 'Lt' or 'Gt'",
        `spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[2].operator: Invalid value: "Near": not a valid selector operator`,
      ],
    ],
    [
      "hostNetwork with a different hostPort",
      {
        hostNetwork: true,
        containers: [container({ ports: [{ containerPort: 8080, hostPort: 80 }] })],
      },
      [
        "spec.containers[0].ports[0].containerPort: Invalid value: 8080: must match `hostPort` when `hostNetwork` is true",
      ],
    ],
    [
      "two containers on one host port",
      {
        containers: [
          container({ ports: [{ containerPort: 80, hostPort: 8080 }] }),
          container({ name: "b", ports: [{ containerPort: 81, hostPort: 8080 }] }),
        ],
      },
      ['spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//8080"'],
    ],
    [
      "dnsPolicy None without nameservers, bad search and option",
      { dnsPolicy: "None", dnsConfig: { searches: ["bad_domain."], options: [{ value: "2" }] } },
      [
        "spec.dnsConfig.nameservers: Required value: must provide at least one DNS nameserver when `dnsPolicy` is None",
        "spec.dnsConfig.searches[0]: Invalid value: \"bad_domain\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        "spec.dnsConfig.options[0]: Required value: Option.Name must not be empty",
      ],
    ],
    [
      "too many nameservers",
      { dnsConfig: { nameservers: ["1.1.1.1", "8.8.8.8", "9.9.9.9", "dns"] } },
      [
        'spec.dnsConfig.nameservers: Invalid value: []string{"1.1.1.1", "8.8.8.8", "9.9.9.9", "dns"}: must not have more than 3 nameservers',
        'spec.dnsConfig.nameservers[3]: Invalid value: "dns": must be valid IP address',
      ],
    ],
    [
      "security contexts and host aliases",
      {
        securityContext: {
          runAsUser: -1,
          sysctls: [
            { name: "net.core.somaxconn", value: "1" },
            { name: "net.core.somaxconn", value: "2" },
          ],
          seccompProfile: { type: "Localhost" },
        },
        hostAliases: [{ ip: "10.0.0.999", hostnames: ["db.local"] }],
        containers: [
          container({ securityContext: { privileged: true, allowPrivilegeEscalation: false } }),
        ],
      },
      [
        'spec.containers[0].securityContext: Invalid value: "": cannot set `allowPrivilegeEscalation` to false and `privileged` to true',
        "spec.securityContext.runAsUser: Invalid value: -1: must be between 0 and 2147483647, inclusive",
        'spec.securityContext.sysctls[1].name: Duplicate value: "net.core.somaxconn"',
        "spec.securityContext.seccompProfile.localhostProfile: Required value: must be set when seccomp type is Localhost",
        'spec.hostAliases[0].ip: Invalid value: "10.0.0.999": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
      ],
    ],
    [
      "activeDeadlineSeconds 0",
      { activeDeadlineSeconds: 0 },
      ["spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 4294967295, inclusive"],
    ],
  ])("%s", (_name, spec, expected) => {
    expect(createErrors(pod(spec))).toEqual(expected);
  });

  it("requires the fields defaults fill: validating an undefaulted pod reports them", () => {
    const undefaulted = validateObject(objectFromJson(pod())).map((e) => e.message);
    expect(undefaulted).toEqual([
      "spec.containers[0].imagePullPolicy: Required value",
      "spec.containers[0].terminationMessagePolicy: Required value",
      "spec.restartPolicy: Required value",
      "spec.dnsPolicy: Required value",
    ]);
  });
});

describe("pod update", () => {
  const old = pod({
    activeDeadlineSeconds: 100,
    tolerations: [{ key: "a", operator: "Exists", effect: "NoExecute", tolerationSeconds: 10 }],
  });
  const with_ = (spec: Json) => pod({ ...(old.spec as Json), ...spec });

  it("allows an image change, a lower deadline, added tolerations and new seconds", () => {
    expect(
      updateErrors(
        with_({
          containers: [container({ image: "tug/app:2" })],
          activeDeadlineSeconds: 50,
          tolerations: [
            { key: "a", operator: "Exists", effect: "NoExecute", tolerationSeconds: 20 },
            { key: "b", operator: "Exists" },
          ],
        }),
        old,
      ),
    ).toEqual([]);
  });

  it("forbids other spec changes with Kubernetes' message", () => {
    expect(updateErrors(with_({ containers: [container({ command: ["sh"] })] }), old)).toEqual([
      "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n  changed: spec.containers[0].command",
    ]);
  });

  it.each<[string, Json, string[]]>([
    [
      "raised deadline",
      { activeDeadlineSeconds: 200 },
      [
        "spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous value",
      ],
    ],
    [
      "removed toleration",
      { tolerations: [] },
      [
        "spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds",
      ],
    ],
    [
      "added container",
      { containers: [container({}), container({ name: "b" })] },
      ["spec.containers: Forbidden: pod updates may not add or remove containers"],
    ],
  ])("rejects a %s", (_name, spec, expected) => {
    expect(updateErrors(with_(spec), old)).toEqual(expected);
  });

  it("keeps name, namespace and uid", () => {
    const before = pod({}, { uid: "1" });
    expect(updateErrors(pod({}, { name: "web2", uid: "2" }), before)).toEqual([
      'metadata.name: Invalid value: "web2": field is immutable',
      'metadata.uid: Invalid value: "2": field is immutable',
    ]);
  });
});
