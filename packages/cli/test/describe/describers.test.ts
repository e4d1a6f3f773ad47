import { describe, expect, it } from "vitest";
import {
  describeDeployment,
  describeEvents,
  describeNode,
  describeService,
  fieldTitle,
} from "../../src/describe/describers.js";
import { alignTabs, describeTime } from "../../src/describe/tab-align.js";

const now = new Date("2024-05-01T12:00:00Z");

describe("describe layout", () => {
  it("aligns each run of tabbed lines on its own, as Go's tabwriter", () => {
    expect(alignTabs("Name:\tweb\nLong Key:\tx\nSection:\n  a:\t1\n  bbb:\t2")).toBe(
      "Name:      web\nLong Key:  x\nSection:\n  a:    1\n  bbb:  2",
    );
  });

  it("prints times as kubectl (RFC 1123 with zone) and titles fields", () => {
    expect(describeTime("2024-05-01T11:56:48Z")).toBe("Wed, 01 May 2024 11:56:48 +0000");
    expect(describeTime("")).toBe("<unset>");
    expect(fieldTitle("clusterIP")).toBe("Cluster IP");
    expect(fieldTitle("terminationGracePeriodSeconds")).toBe("Termination Grace Period Seconds");
  });
});

describe("kubectl's describe pages", () => {
  it("deployment", () => {
    expect(
      describeDeployment({
        metadata: {
          name: "web",
          namespace: "default",
          creationTimestamp: "2024-05-01T07:00:00Z",
          labels: { app: "web" },
        },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: "web" } },
          strategy: {
            type: "RollingUpdate",
            rollingUpdate: { maxUnavailable: "25%", maxSurge: 1 },
          },
          template: {
            metadata: { labels: { app: "web" } },
            spec: {
              containers: [{ name: "app", image: "tug/busybox", ports: [{ containerPort: 80 }] }],
            },
          },
        },
        status: {
          replicas: 3,
          updatedReplicas: 3,
          availableReplicas: 2,
          unavailableReplicas: 1,
          conditions: [{ type: "Available", status: "True", reason: "MinimumReplicasAvailable" }],
        },
      }),
    ).toBe(
      [
        "Name:                   web",
        "Namespace:              default",
        "CreationTimestamp:      Wed, 01 May 2024 07:00:00 +0000",
        "Labels:                 app=web",
        "Annotations:            <none>",
        "Selector:               app=web",
        "Replicas:               3 desired | 3 updated | 3 total | 2 available | 1 unavailable",
        "StrategyType:           RollingUpdate",
        "MinReadySeconds:        0",
        "RollingUpdateStrategy:  25% max unavailable, 1 max surge",
        "Pod Template:",
        "  Labels:  app=web",
        "  Containers:",
        "    app:",
        "      Image:        tug/busybox",
        "      Port:         80/TCP",
        "      Environment:  <none>",
        "      Mounts:       <none>",
        "  Volumes:          <none>",
        "Conditions:",
        "  Type       Status  Reason",
        "  ----       ------  ------",
        "  Available  True    MinimumReplicasAvailable",
        "",
      ].join("\n"),
    );
  });

  it("service with its endpoints", () => {
    const text = describeService(
      {
        metadata: { name: "client-node-port", namespace: "default" },
        spec: {
          type: "NodePort",
          selector: { component: "web" },
          clusterIP: "10.96.0.12",
          clusterIPs: ["10.96.0.12"],
          ports: [{ port: 3050, targetPort: 3000, nodePort: 31515, protocol: "TCP" }],
          sessionAffinity: "None",
          externalTrafficPolicy: "Cluster",
        },
      },
      { subsets: [{ addresses: [{ ip: "10.244.1.5" }], ports: [{ port: 3000 }] }] },
    );
    expect(text).toBe(
      [
        "Name:                     client-node-port",
        "Namespace:                default",
        "Labels:                   <none>",
        "Annotations:              <none>",
        "Selector:                 component=web",
        "Type:                     NodePort",
        "IP:                       10.96.0.12",
        "IPs:                      10.96.0.12",
        "Port:                     <unset>  3050/TCP",
        "TargetPort:               3000/TCP",
        "NodePort:                 <unset>  31515/TCP",
        "Endpoints:                10.244.1.5:3000",
        "Session Affinity:         None",
        "External Traffic Policy:  Cluster",
        "",
      ].join("\n"),
    );
  });

  it("node: conditions table, addresses, capacity", () => {
    const text = describeNode({
      metadata: { name: "node-1", labels: { "kubernetes.io/hostname": "node-1" } },
      spec: {
        podCIDR: "10.244.1.0/24",
        taints: [{ key: "dedicated", value: "db", effect: "NoSchedule" }],
      },
      status: {
        conditions: [
          {
            type: "Ready",
            status: "True",
            lastHeartbeatTime: "2024-05-01T11:59:50Z",
            lastTransitionTime: "2024-05-01T10:00:00Z",
            reason: "KubeletReady",
            message: "tug-agent is posting ready status",
          },
        ],
        addresses: [{ type: "InternalIP", address: "192.168.1.2" }],
        capacity: { cpu: "2", memory: "4Gi" },
        nodeInfo: { kubeletVersion: "v0.1.0" },
      },
    });
    expect(text).toContain("Taints:             dedicated=db:NoSchedule\n");
    expect(text).toContain(
      "  Type   Status  LastHeartbeatTime                LastTransitionTime               Reason        Message\n" +
        "  ----   ------  -----------------                ------------------               ------        -------\n" +
        "  Ready  True    Wed, 01 May 2024 11:59:50 +0000  Wed, 01 May 2024 10:00:00 +0000  KubeletReady  tug-agent is posting ready status\n",
    );
    expect(text).toContain(
      "Addresses:\n  InternalIP:  192.168.1.2\nCapacity:\n  cpu:     2\n  memory:  4Gi\n",
    );
    // As in kubectl's output, PodCIDR aligns with the System Info lines just above it.
    expect(text).toContain(
      "  Kubelet Version:            v0.1.0\nPodCIDR:                      10.244.1.0/24\n",
    );
  });

  it("events: repeated ones show (xN over ...), oldest first", () => {
    expect(
      describeEvents(
        [
          {
            type: "Warning",
            reason: "BackOff",
            message: "Back-off restarting failed container",
            count: 5,
            firstTimestamp: "2024-05-01T11:50:00Z",
            lastTimestamp: "2024-05-01T11:59:00Z",
            source: { component: "tug-agent" },
          },
          {
            type: "Normal",
            reason: "Scheduled",
            message: "Successfully assigned default/web to node-1",
            lastTimestamp: "2024-05-01T11:49:00Z",
            source: { component: "default-scheduler" },
          },
        ],
        now,
      ),
    ).toBe(
      [
        "Events:",
        "  Type     Reason     Age                From               Message",
        "  ----     ------     ----               ----               -------",
        "  Normal   Scheduled  11m                default-scheduler  Successfully assigned default/web to node-1",
        "  Warning  BackOff    60s (x5 over 10m)  tug-agent          Back-off restarting failed container",
        "",
      ].join("\n"),
    );
  });
});
