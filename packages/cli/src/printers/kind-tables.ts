// The columns `kubectl get` prints for each kind (the table handlers of
// k8s.io/kubernetes/pkg/printers/internalversion), read from the object's Kubernetes JSON.
// Kinds without a table of their own get NAME AGE. Wide columns (-o wide) follow the normal
// ones, as in kubectl.

import type { JsonObject, JsonValue } from "@tug/api";
import { ageSince } from "./age.js";
import { arr, bool, num, obj, str, stringMap } from "./json-view.js";
import { podColumns } from "./pod-status.js";

/** How one kind prints as a table row. */
export interface KindTable {
  readonly header: readonly string[];
  row(object: JsonObject, now: Date): string[];
  /** Columns -o wide adds after the normal ones. */
  readonly wideHeader?: readonly string[];
  wideRow?(object: JsonObject, now: Date): string[];
}

const NONE = "<none>";

function name(o: JsonObject): string {
  return str(o, "metadata", "name");
}

function age(o: JsonObject, now: Date): string {
  return ageSince(str(o, "metadata", "creationTimestamp"), now);
}

function orNone(value: string): string {
  return value === "" ? NONE : value;
}

/** A number cell: absent counts as 0, as Go's zero value would print. */
function count(value: JsonValue | undefined, ...path: string[]): string {
  return `${num(value, ...path) ?? 0}`;
}

/** A LabelSelector as kubectl prints it: "app=web,tier in (a,b)"; "<none>" when empty. */
export function formatLabelSelector(selector: JsonObject | undefined): string {
  if (selector === undefined) return NONE;
  const parts = Object.entries(stringMap(selector, "matchLabels"))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`);
  for (const expr of arr(selector, "matchExpressions")) {
    const key = str(expr, "key");
    const values = arr(expr, "values").filter((v): v is string => typeof v === "string");
    switch (str(expr, "operator")) {
      case "In":
        parts.push(`${key} in (${values.join(",")})`);
        break;
      case "NotIn":
        parts.push(`${key} notin (${values.join(",")})`);
        break;
      case "Exists":
        parts.push(key);
        break;
      case "DoesNotExist":
        parts.push(`!${key}`);
        break;
    }
  }
  return parts.length === 0 ? NONE : parts.join(",");
}

/** A map as "k=v,k2=v2", sorted by key; "<none>" when empty (labels, node selectors). */
export function formatMap(map: Record<string, string>): string {
  const keys = Object.keys(map).sort();
  return keys.length === 0 ? NONE : keys.map((k) => `${k}=${map[k]}`).join(",");
}

/** CONTAINERS IMAGES SELECTOR of a workload with a pod template. */
function templateWide(o: JsonObject): string[] {
  const containers = arr(o, "spec", "template", "spec", "containers");
  return [
    orNone(containers.map((c) => str(c, "name")).join(",")),
    orNone(containers.map((c) => str(c, "image")).join(",")),
    formatLabelSelector(obj(o, "spec", "selector")),
  ];
}

function podIps(o: JsonObject): string {
  return str(o, "status", "podIP") || NONE;
}

function readinessGates(o: JsonObject): string {
  const gates = arr(o, "spec", "readinessGates");
  if (gates.length === 0) return NONE;
  const ready = gates.filter((g) =>
    arr(o, "status", "conditions").some(
      (c) => str(c, "type") === str(g, "conditionType") && str(c, "status") === "True",
    ),
  ).length;
  return `${ready}/${gates.length}`;
}

const pod: KindTable = {
  header: ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
  row: (o, now) => {
    const c = podColumns(o, now);
    return [name(o), c.ready, c.status, c.restarts, age(o, now)];
  },
  wideHeader: ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"],
  wideRow: (o) => [
    podIps(o),
    orNone(str(o, "spec", "nodeName")),
    orNone(str(o, "status", "nominatedNodeName")),
    readinessGates(o),
  ],
};

const deployment: KindTable = {
  header: ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
  row: (o, now) => [
    name(o),
    `${count(o, "status", "readyReplicas")}/${num(o, "spec", "replicas") ?? 1}`,
    count(o, "status", "updatedReplicas"),
    count(o, "status", "availableReplicas"),
    age(o, now),
  ],
  wideHeader: ["CONTAINERS", "IMAGES", "SELECTOR"],
  wideRow: templateWide,
};

const replicaSet: KindTable = {
  header: ["NAME", "DESIRED", "CURRENT", "READY", "AGE"],
  row: (o, now) => [
    name(o),
    `${num(o, "spec", "replicas") ?? 1}`,
    count(o, "status", "replicas"),
    count(o, "status", "readyReplicas"),
    age(o, now),
  ],
  wideHeader: ["CONTAINERS", "IMAGES", "SELECTOR"],
  wideRow: templateWide,
};

const daemonSet: KindTable = {
  header: [
    "NAME",
    "DESIRED",
    "CURRENT",
    "READY",
    "UP-TO-DATE",
    "AVAILABLE",
    "NODE SELECTOR",
    "AGE",
  ],
  row: (o, now) => [
    name(o),
    count(o, "status", "desiredNumberScheduled"),
    count(o, "status", "currentNumberScheduled"),
    count(o, "status", "numberReady"),
    count(o, "status", "updatedNumberScheduled"),
    count(o, "status", "numberAvailable"),
    formatMap(stringMap(o, "spec", "template", "spec", "nodeSelector")),
    age(o, now),
  ],
  wideHeader: ["CONTAINERS", "IMAGES", "SELECTOR"],
  wideRow: templateWide,
};

const statefulSet: KindTable = {
  header: ["NAME", "READY", "AGE"],
  row: (o, now) => [
    name(o),
    `${count(o, "status", "readyReplicas")}/${num(o, "spec", "replicas") ?? 1}`,
    age(o, now),
  ],
  wideHeader: ["CONTAINERS", "IMAGES"],
  wideRow: (o) => templateWide(o).slice(0, 2),
};

/** A job's STATUS as kubectl 1.30+ prints it, from its conditions. */
function jobStatus(o: JsonObject): string {
  const has = (type: string) =>
    arr(o, "status", "conditions").some(
      (c) => str(c, "type") === type && str(c, "status") === "True",
    );
  if (has("Complete")) return "Complete";
  if (has("Failed")) return "Failed";
  if (has("FailureTarget")) return "FailureTarget";
  if (has("SuccessCriteriaMet")) return "SuccessCriteriaMet";
  if (bool(o, "spec", "suspend")) return "Suspended";
  return "Running";
}

const job: KindTable = {
  header: ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"],
  row: (o, now) => {
    const start = str(o, "status", "startTime");
    const end = str(o, "status", "completionTime");
    const duration =
      start === "" ? "" : ageSince(start, end === "" ? now : new Date(Date.parse(end)));
    const completions = num(o, "spec", "completions");
    const succeeded = count(o, "status", "succeeded");
    return [
      name(o),
      jobStatus(o),
      completions === undefined ? `${succeeded}/1` : `${succeeded}/${completions}`,
      duration,
      age(o, now),
    ];
  },
  wideHeader: ["CONTAINERS", "IMAGES", "SELECTOR"],
  wideRow: templateWide,
};

const cronJob: KindTable = {
  header: ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE"],
  row: (o, now) => {
    const last = str(o, "status", "lastScheduleTime");
    return [
      name(o),
      str(o, "spec", "schedule"),
      orNone(str(o, "spec", "timeZone")),
      bool(o, "spec", "suspend") ? "True" : "False",
      `${arr(o, "status", "active").length}`,
      last === "" ? NONE : ageSince(last, now),
      age(o, now),
    ];
  },
  wideHeader: ["CONTAINERS", "IMAGES", "SELECTOR"],
  wideRow: (o) => {
    const containers = arr(o, "spec", "jobTemplate", "spec", "template", "spec", "containers");
    return [
      orNone(containers.map((c) => str(c, "name")).join(",")),
      orNone(containers.map((c) => str(c, "image")).join(",")),
      formatLabelSelector(obj(o, "spec", "jobTemplate", "spec", "selector")),
    ];
  },
};

/** A service's PORT(S): "80/TCP", "3050:31515/TCP", comma-joined; "<none>" when empty. */
export function servicePorts(o: JsonObject): string {
  const ports = arr(o, "spec", "ports").map((p) => {
    const protocol = str(p, "protocol") || "TCP";
    const nodePort = num(p, "nodePort") ?? 0;
    const port = num(p, "port") ?? 0;
    return nodePort === 0 ? `${port}/${protocol}` : `${port}:${nodePort}/${protocol}`;
  });
  return ports.length === 0 ? NONE : ports.join(",");
}

function serviceExternalIp(o: JsonObject): string {
  const type = str(o, "spec", "type") || "ClusterIP";
  const externalIps = arr(o, "spec", "externalIPs").filter(
    (ip): ip is string => typeof ip === "string",
  );
  switch (type) {
    case "ExternalName":
      return str(o, "spec", "externalName");
    case "LoadBalancer": {
      const ingress = arr(o, "status", "loadBalancer", "ingress")
        .map((i) => str(i, "ip") || str(i, "hostname"))
        .filter((s) => s !== "");
      const all = [...ingress, ...externalIps];
      return all.length === 0 ? "<pending>" : all.join(",");
    }
    default:
      return externalIps.length === 0 ? NONE : externalIps.join(",");
  }
}

const service: KindTable = {
  header: ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"],
  row: (o, now) => [
    name(o),
    str(o, "spec", "type") || "ClusterIP",
    orNone(str(o, "spec", "clusterIP")),
    serviceExternalIp(o),
    servicePorts(o),
    age(o, now),
  ],
  wideHeader: ["SELECTOR"],
  wideRow: (o) => [formatMap(stringMap(o, "spec", "selector"))],
};

/** A node's STATUS: its Ready condition, plus SchedulingDisabled when cordoned. */
function nodeStatus(o: JsonObject): string {
  const ready = arr(o, "status", "conditions").find((c) => str(c, "type") === "Ready");
  const parts = [
    ready === undefined
      ? "Unknown"
      : str(ready, "status") === "True"
        ? "Ready"
        : str(ready, "status") === "False"
          ? "NotReady"
          : "Unknown",
  ];
  if (bool(o, "spec", "unschedulable")) parts.push("SchedulingDisabled");
  return parts.join(",");
}

/** ROLES from node-role.kubernetes.io/<role> labels and the kubernetes.io/role label. */
function nodeRoles(o: JsonObject): string {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(stringMap(o, "metadata", "labels"))) {
    if (key.startsWith("node-role.kubernetes.io/")) {
      const role = key.slice("node-role.kubernetes.io/".length);
      if (role !== "") roles.add(role);
    } else if (key === "kubernetes.io/role" && value !== "") {
      roles.add(value);
    }
  }
  return roles.size === 0 ? NONE : [...roles].sort().join(",");
}

function nodeAddress(o: JsonObject, type: string): string {
  const found = arr(o, "status", "addresses").find((a) => str(a, "type") === type);
  return found === undefined ? NONE : str(found, "address");
}

const node: KindTable = {
  header: ["NAME", "STATUS", "ROLES", "AGE", "VERSION"],
  row: (o, now) => [
    name(o),
    nodeStatus(o),
    nodeRoles(o),
    age(o, now),
    str(o, "status", "nodeInfo", "kubeletVersion"),
  ],
  wideHeader: ["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"],
  wideRow: (o) => [
    nodeAddress(o, "InternalIP"),
    nodeAddress(o, "ExternalIP"),
    orNone(str(o, "status", "nodeInfo", "osImage")),
    orNone(str(o, "status", "nodeInfo", "kernelVersion")),
    orNone(str(o, "status", "nodeInfo", "containerRuntimeVersion")),
  ],
};

const namespace: KindTable = {
  header: ["NAME", "STATUS", "AGE"],
  row: (o, now) => [name(o), str(o, "status", "phase") || "Active", age(o, now)],
};

/** An event's LAST SEEN: the latest of its timestamps. */
function eventLastSeen(o: JsonObject, now: Date): string {
  const last =
    str(o, "lastTimestamp") ||
    str(o, "series", "lastObservedTime") ||
    str(o, "eventTime") ||
    str(o, "firstTimestamp") ||
    str(o, "metadata", "creationTimestamp");
  return ageSince(last, now);
}

const event: KindTable = {
  header: ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
  row: (o, now) => [
    eventLastSeen(o, now),
    str(o, "type"),
    str(o, "reason"),
    `${str(o, "involvedObject", "kind").toLowerCase()}/${str(o, "involvedObject", "name")}`,
    str(o, "message").trim(),
  ],
  wideHeader: ["SUBOBJECT", "SOURCE", "FIRST SEEN", "COUNT", "NAME"],
  wideRow: (o, now) => [
    str(o, "involvedObject", "fieldPath"),
    [str(o, "source", "component"), str(o, "source", "host")].filter((s) => s !== "").join(", "),
    ageSince(str(o, "firstTimestamp") || str(o, "eventTime"), now),
    `${num(o, "count") ?? 1}`,
    name(o),
  ],
};

const configMap: KindTable = {
  header: ["NAME", "DATA", "AGE"],
  row: (o, now) => [
    name(o),
    `${Object.keys(obj(o, "data") ?? {}).length + Object.keys(obj(o, "binaryData") ?? {}).length}`,
    age(o, now),
  ],
};

const secret: KindTable = {
  header: ["NAME", "TYPE", "DATA", "AGE"],
  row: (o, now) => [
    name(o),
    str(o, "type") || "Opaque",
    `${Object.keys(obj(o, "data") ?? {}).length}`,
    age(o, now),
  ],
};

const lease: KindTable = {
  header: ["NAME", "HOLDER", "AGE"],
  row: (o, now) => [name(o), str(o, "spec", "holderIdentity"), age(o, now)],
};

/** ENDPOINTS: "ip:port" pairs, the first three, then "+ N more..." as kubectl abbreviates. */
function endpointsList(o: JsonObject): string {
  const pairs: string[] = [];
  for (const subset of arr(o, "subsets")) {
    const addresses = arr(subset, "addresses").map((a) => str(a, "ip"));
    const ports = arr(subset, "ports").map((p) => num(p, "port") ?? 0);
    for (const ip of addresses) {
      if (ports.length === 0) pairs.push(ip);
      for (const port of ports) pairs.push(`${ip}:${port}`);
    }
  }
  if (pairs.length === 0) return NONE;
  if (pairs.length <= 3) return pairs.join(",");
  return `${pairs.slice(0, 3).join(",")} + ${pairs.length - 3} more...`;
}

const endpoints: KindTable = {
  header: ["NAME", "ENDPOINTS", "AGE"],
  row: (o, now) => [name(o), endpointsList(o), age(o, now)],
};

const serviceAccount: KindTable = {
  header: ["NAME", "SECRETS", "AGE"],
  row: (o, now) => [name(o), `${arr(o, "secrets").length}`, age(o, now)],
};

const ACCESS_MODE_SHORT: Readonly<Record<string, string>> = {
  ReadWriteOnce: "RWO",
  ReadOnlyMany: "ROX",
  ReadWriteMany: "RWX",
  ReadWriteOncePod: "RWOP",
};

function accessModes(o: JsonObject): string {
  return arr(o, "spec", "accessModes")
    .map((m) => (typeof m === "string" ? (ACCESS_MODE_SHORT[m] ?? m) : ""))
    .join(",");
}

const persistentVolume: KindTable = {
  header: [
    "NAME",
    "CAPACITY",
    "ACCESS MODES",
    "RECLAIM POLICY",
    "STATUS",
    "CLAIM",
    "STORAGECLASS",
    "REASON",
    "AGE",
  ],
  row: (o, now) => {
    const claimName = str(o, "spec", "claimRef", "name");
    return [
      name(o),
      str(o, "spec", "capacity", "storage"),
      accessModes(o),
      str(o, "spec", "persistentVolumeReclaimPolicy") || "Retain",
      str(o, "status", "phase"),
      claimName === "" ? "" : `${str(o, "spec", "claimRef", "namespace")}/${claimName}`,
      str(o, "spec", "storageClassName"),
      str(o, "status", "reason"),
      age(o, now),
    ];
  },
  wideHeader: ["VOLUMEMODE"],
  wideRow: (o) => [str(o, "spec", "volumeMode") || "Filesystem"],
};

const persistentVolumeClaim: KindTable = {
  header: ["NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS", "AGE"],
  row: (o, now) => {
    const bound = str(o, "status", "phase") === "Bound";
    return [
      name(o),
      str(o, "status", "phase") || "Pending",
      str(o, "spec", "volumeName"),
      bound ? str(o, "status", "capacity", "storage") : "",
      bound
        ? arr(o, "status", "accessModes")
            .map((m) => (typeof m === "string" ? (ACCESS_MODE_SHORT[m] ?? m) : ""))
            .join(",")
        : "",
      str(o, "spec", "storageClassName"),
      age(o, now),
    ];
  },
  wideHeader: ["VOLUMEMODE"],
  wideRow: (o) => [str(o, "spec", "volumeMode") || "Filesystem"],
};

const generic: KindTable = {
  header: ["NAME", "AGE"],
  row: (o, now) => [name(o), age(o, now)],
};

const TABLES: Readonly<Record<string, KindTable>> = {
  Pod: pod,
  Deployment: deployment,
  ReplicaSet: replicaSet,
  DaemonSet: daemonSet,
  StatefulSet: statefulSet,
  Job: job,
  CronJob: cronJob,
  Service: service,
  Node: node,
  Namespace: namespace,
  Event: event,
  ConfigMap: configMap,
  Secret: secret,
  Lease: lease,
  Endpoints: endpoints,
  ServiceAccount: serviceAccount,
  PersistentVolume: persistentVolume,
  PersistentVolumeClaim: persistentVolumeClaim,
};

/** The table of a kind ("Pod"); NAME AGE for kinds without their own. */
export function kindTable(kind: string): KindTable {
  return TABLES[kind] ?? generic;
}
