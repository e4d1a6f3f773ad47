import { type JsonObject, objectToJson, parseManifests, resolveKindName } from "@tug/api";
import { describe, expect, it } from "vitest";
import {
  objectName,
  printStructured,
  printTable,
  type TableOptions,
} from "../../src/printers/object-printer.js";

const now = new Date("2024-05-01T12:00:00Z");
const plain: TableOptions = {
  wide: false,
  withNamespace: false,
  showLabels: false,
  noHeaders: false,
};

function table(kind: string, objects: JsonObject[], options: Partial<TableOptions> = {}): string {
  return printTable(resolveKindName(kind), objects, { ...plain, ...options }, now);
}

const webPod: JsonObject = {
  metadata: {
    name: "web",
    namespace: "default",
    creationTimestamp: "2024-05-01T11:56:48Z",
    labels: { app: "web", tier: "front" },
  },
  spec: { nodeName: "node-1", containers: [{ name: "app", image: "tug/busybox" }] },
  status: {
    phase: "Running",
    podIP: "10.244.1.5",
    containerStatuses: [{ name: "app", ready: true, state: { running: {} } }],
  },
};

const crashing: JsonObject = {
  metadata: {
    name: "api-7d4b9c-x2x",
    namespace: "prod",
    creationTimestamp: "2024-04-29T09:00:00Z",
  },
  spec: { containers: [{ name: "api" }, { name: "sidecar" }] },
  status: {
    phase: "Running",
    containerStatuses: [
      { name: "api", restartCount: 12, state: { waiting: { reason: "CrashLoopBackOff" } } },
      { name: "sidecar", ready: true, state: { running: {} } },
    ],
  },
};

describe("kubectl tables", () => {
  it("pods: NAME READY STATUS RESTARTS AGE", () => {
    expect(table("pods", [webPod, crashing])).toBe(
      [
        "NAME             READY   STATUS             RESTARTS   AGE",
        "web              1/1     Running            0          3m12s",
        "api-7d4b9c-x2x   1/2     CrashLoopBackOff   12         2d3h",
        "",
      ].join("\n"),
    );
  });

  it("pods -o wide -A --show-labels", () => {
    expect(table("po", [webPod], { wide: true, withNamespace: true, showLabels: true })).toBe(
      [
        "NAMESPACE   NAME   READY   STATUS    RESTARTS   AGE     IP           NODE     NOMINATED NODE   READINESS GATES   LABELS",
        "default     web    1/1     Running   0          3m12s   10.244.1.5   node-1   <none>           <none>            app=web,tier=front",
        "",
      ].join("\n"),
    );
  });

  it("deployments and replicasets", () => {
    const deploy: JsonObject = {
      metadata: { name: "web", creationTimestamp: "2024-05-01T07:00:00Z" },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: "web" } },
        template: { spec: { containers: [{ name: "app", image: "tug/busybox" }] } },
      },
      status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
    };
    expect(table("deploy", [deploy])).toBe(
      [
        "NAME   READY   UP-TO-DATE   AVAILABLE   AGE",
        "web    2/3     3            2           5h",
        "",
      ].join("\n"),
    );
    expect(table("deployments.apps", [deploy], { wide: true })).toBe(
      [
        "NAME   READY   UP-TO-DATE   AVAILABLE   AGE   CONTAINERS   IMAGES        SELECTOR",
        "web    2/3     3            2           5h    app          tug/busybox   app=web",
        "",
      ].join("\n"),
    );
    const rs: JsonObject = {
      metadata: { name: "web-5d9c", creationTimestamp: "2024-05-01T11:59:15Z" },
      spec: { replicas: 3 },
      status: { replicas: 3, readyReplicas: 1 },
    };
    expect(table("rs", [rs])).toBe(
      [
        "NAME       DESIRED   CURRENT   READY   AGE",
        "web-5d9c   3         3         1       45s",
        "",
      ].join("\n"),
    );
  });

  it("services: PORT(S) with node ports, EXTERNAL-IP by type", () => {
    const nodePort: JsonObject = {
      metadata: { name: "client-node-port", creationTimestamp: "2024-05-01T11:00:00Z" },
      spec: {
        type: "NodePort",
        clusterIP: "10.96.0.12",
        ports: [{ port: 3050, targetPort: 3000, nodePort: 31515, protocol: "TCP" }],
      },
    };
    const lb: JsonObject = {
      metadata: { name: "edge", creationTimestamp: "2024-05-01T11:00:00Z" },
      spec: {
        type: "LoadBalancer",
        clusterIP: "10.96.0.13",
        ports: [{ port: 80 }, { port: 53, protocol: "UDP" }],
      },
    };
    expect(table("svc", [nodePort, lb])).toBe(
      [
        "NAME               TYPE           CLUSTER-IP   EXTERNAL-IP   PORT(S)          AGE",
        "client-node-port   NodePort       10.96.0.12   <none>        3050:31515/TCP   60m",
        "edge               LoadBalancer   10.96.0.13   <pending>     80/TCP,53/UDP    60m",
        "",
      ].join("\n"),
    );
  });

  it("nodes: STATUS from the Ready condition, ROLES from labels", () => {
    const node: JsonObject = {
      metadata: {
        name: "node-1",
        creationTimestamp: "2024-04-20T12:00:00Z",
        labels: { "node-role.kubernetes.io/control-plane": "" },
      },
      spec: { unschedulable: true },
      status: {
        conditions: [{ type: "Ready", status: "True" }],
        nodeInfo: { kubeletVersion: "v0.1.0-tug" },
      },
    };
    const lost: JsonObject = {
      metadata: { name: "node-2", creationTimestamp: "2024-04-20T12:00:00Z" },
      status: { conditions: [{ type: "Ready", status: "Unknown" }] },
    };
    expect(table("nodes", [node, lost])).toBe(
      [
        "NAME     STATUS                     ROLES           AGE   VERSION",
        "node-1   Ready,SchedulingDisabled   control-plane   11d   v0.1.0-tug",
        "node-2   Unknown                    <none>          11d   ",
        "",
      ].join("\n"),
    );
  });

  it("events, configmaps, secrets, namespaces and the NAME AGE default", () => {
    const ev: JsonObject = {
      metadata: { name: "web.17c", namespace: "default" },
      involvedObject: { kind: "Pod", name: "web" },
      type: "Normal",
      reason: "Scheduled",
      message: "Successfully assigned default/web to node-1",
      lastTimestamp: "2024-05-01T11:59:30Z",
    };
    expect(table("ev", [ev])).toBe(
      [
        "LAST SEEN   TYPE     REASON      OBJECT    MESSAGE",
        "30s         Normal   Scheduled   pod/web   Successfully assigned default/web to node-1",
        "",
      ].join("\n"),
    );
    const created = { creationTimestamp: "2024-05-01T11:00:00Z" };
    expect(table("cm", [{ metadata: { name: "cfg", ...created }, data: { a: "1", b: "2" } }])).toBe(
      ["NAME   DATA   AGE", "cfg    2      60m", ""].join("\n"),
    );
    expect(
      table("secret", [{ metadata: { name: "s", ...created }, data: { token: "eA==" } }]),
    ).toBe(["NAME   TYPE     DATA   AGE", "s      Opaque   1      60m", ""].join("\n"));
    expect(
      table("ns", [{ metadata: { name: "default", ...created }, status: { phase: "Active" } }]),
    ).toBe(["NAME      STATUS   AGE", "default   Active   60m", ""].join("\n"));
    expect(table("roles", [{ metadata: { name: "reader", ...created } }])).toBe(
      ["NAME     AGE", "reader   60m", ""].join("\n"),
    );
  });

  it("jobs, statefulsets, leases, endpoints, pvcs", () => {
    const created = { creationTimestamp: "2024-05-01T11:00:00Z" };
    expect(
      table("jobs", [
        {
          metadata: { name: "pi", ...created },
          spec: { completions: 1 },
          status: {
            succeeded: 1,
            startTime: "2024-05-01T11:00:00Z",
            completionTime: "2024-05-01T11:00:42Z",
            conditions: [{ type: "Complete", status: "True" }],
          },
        },
      ]),
    ).toBe(
      [
        "NAME   STATUS     COMPLETIONS   DURATION   AGE",
        "pi     Complete   1/1           42s        60m",
        "",
      ].join("\n"),
    );
    expect(
      table("sts", [
        {
          metadata: { name: "db", ...created },
          spec: { replicas: 3 },
          status: { readyReplicas: 3 },
        },
      ]),
    ).toBe(["NAME   READY   AGE", "db     3/3     60m", ""].join("\n"));
    expect(
      table("leases", [
        { metadata: { name: "tug-scheduler", ...created }, spec: { holderIdentity: "host-a" } },
      ]),
    ).toBe(["NAME            HOLDER   AGE", "tug-scheduler   host-a   60m", ""].join("\n"));
    expect(
      table("ep", [
        {
          metadata: { name: "web", ...created },
          subsets: [
            {
              addresses: [
                { ip: "10.0.0.1" },
                { ip: "10.0.0.2" },
                { ip: "10.0.0.3" },
                { ip: "10.0.0.4" },
              ],
              ports: [{ port: 80 }],
            },
          ],
        },
      ]),
    ).toBe(
      [
        "NAME   ENDPOINTS                                         AGE",
        "web    10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more...   60m",
        "",
      ].join("\n"),
    );
    expect(
      table("pvc", [
        {
          metadata: { name: "data", ...created },
          spec: { volumeName: "pv-1", storageClassName: "local" },
          status: { phase: "Bound", capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"] },
        },
      ]),
    ).toBe(
      [
        "NAME   STATUS   VOLUME   CAPACITY   ACCESS MODES   STORAGECLASS   AGE",
        "data   Bound    pv-1     1Gi        RWO            local          60m",
        "",
      ].join("\n"),
    );
  });
});

describe("-o name, json and yaml", () => {
  it("names objects as kubectl does", () => {
    expect(objectName(resolveKindName("pods"), "web")).toBe("pod/web");
    expect(objectName(resolveKindName("deploy"), "web")).toBe("deployment.apps/web");
  });

  it("prints one object as itself and several as a List", () => {
    const kind = resolveKindName("pods");
    const one = { apiVersion: "v1", kind: "Pod", metadata: { name: "a" } };
    expect(printStructured([{ kind, json: one }], "yaml", false)).toBe(
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n",
    );
    const list = JSON.parse(printStructured([{ kind, json: one }], "json", true));
    expect(list).toEqual({
      apiVersion: "v1",
      kind: "List",
      items: [one],
      metadata: { resourceVersion: "" },
    });
  });
});

describe("-o yaml round trip", () => {
  it("quotes strings YAML 1.1 would read as booleans, numbers or times, so apply reads them back", () => {
    const kind = resolveKindName("cm");
    const json = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: "cfg",
        creationTimestamp: "2024-05-01T11:00:00Z",
        labels: { enabled: "yes" },
      },
      data: { mode: "0644", switch: "on", n: "10" },
    };
    const yaml = printStructured([{ kind, json }], "yaml", false);
    expect(yaml).toContain('creationTimestamp: "2024-05-01T11:00:00Z"');
    expect(yaml).toContain('enabled: "yes"');
    const [back] = parseManifests(yaml);
    expect(back === undefined ? undefined : objectToJson(back.object)).toEqual(json);
  });
});
