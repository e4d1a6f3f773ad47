// `tug describe` output per kind, in kubectl describe's layout: pods, deployments (and
// replicasets), nodes and services get kubectl's sections; every other kind gets its
// metadata and then its fields as nested "Field Name:  value" lines, as kubectl's generic
// describer prints them. The Events section is added by the caller.

import type { JsonObject, JsonValue } from "@tug/api";
import { ageSince } from "../printers/age.js";
import { arr, bool, num, obj, str, stringMap } from "../printers/json-view.js";
import { formatLabelSelector, formatMap, servicePorts } from "../printers/kind-tables.js";
import { podColumns } from "../printers/pod-status.js";
import { DescribeWriter, describeTime } from "./tab-align.js";

function orNone(value: string): string {
  return value === "" ? "<none>" : value;
}

function header(w: DescribeWriter, o: JsonObject, namespaced: boolean): void {
  w.line(0, "Name", str(o, "metadata", "name"));
  if (namespaced) w.line(0, "Namespace", str(o, "metadata", "namespace"));
}

function labelsAndAnnotations(w: DescribeWriter, o: JsonObject): void {
  w.map(0, "Labels", stringMap(o, "metadata", "labels"));
  const annotations = stringMap(o, "metadata", "annotations");
  delete annotations["kubectl.kubernetes.io/last-applied-configuration"];
  w.map(0, "Annotations", annotations, ": ");
}

function controlledBy(o: JsonObject): string | undefined {
  const owner = arr(o, "metadata", "ownerReferences").find((r) => bool(r, "controller"));
  return owner === undefined ? undefined : `${str(owner, "kind")}/${str(owner, "name")}`;
}

/** A container state as kubectl describes it: "Running" with Started, "Waiting" with Reason... */
function containerState(
  w: DescribeWriter,
  level: number,
  title: string,
  state: JsonValue | undefined,
): void {
  const running = obj(state, "running");
  const waiting = obj(state, "waiting");
  const terminated = obj(state, "terminated");
  if (running !== undefined) {
    w.line(level, title, "Running");
    w.line(level + 1, "Started", describeTime(str(running, "startedAt")));
  } else if (terminated !== undefined) {
    w.line(level, title, "Terminated");
    w.line(level + 1, "Reason", str(terminated, "reason"));
    w.line(level + 1, "Exit Code", `${num(terminated, "exitCode") ?? 0}`);
    w.line(level + 1, "Started", describeTime(str(terminated, "startedAt")));
    w.line(level + 1, "Finished", describeTime(str(terminated, "finishedAt")));
  } else {
    w.line(level, title, "Waiting");
    if (waiting !== undefined) w.line(level + 1, "Reason", str(waiting, "reason"));
  }
}

function ports(container: JsonValue | undefined): string {
  const list = arr(container, "ports").map(
    (p) => `${num(p, "containerPort") ?? 0}/${str(p, "protocol") || "TCP"}`,
  );
  return list.length === 0 ? "<none>" : list.join(", ");
}

function resources(w: DescribeWriter, level: number, container: JsonValue | undefined): void {
  for (const [title, key] of [
    ["Limits", "limits"],
    ["Requests", "requests"],
  ] as const) {
    const values = stringMap(container, "resources", key);
    if (Object.keys(values).length === 0) continue;
    w.line(level, title);
    for (const name of Object.keys(values).sort()) w.line(level + 1, name, values[name] ?? "");
  }
}

function environment(w: DescribeWriter, level: number, container: JsonValue | undefined): void {
  const env = arr(container, "env");
  if (env.length === 0) {
    w.line(level, "Environment", "<none>");
    return;
  }
  w.line(level, "Environment");
  for (const e of env) {
    const from = obj(e, "valueFrom");
    let value = str(e, "value");
    if (from !== undefined) {
      const ref = obj(from, "configMapKeyRef") ?? obj(from, "secretKeyRef");
      const field = str(from, "fieldRef", "fieldPath");
      if (field !== "") value = `(${field})`;
      else if (ref !== undefined) {
        const what = obj(from, "secretKeyRef") === undefined ? "config map" : "secret";
        value = `<set to the key '${str(ref, "key")}' of ${what} '${str(ref, "name")}'>`;
      }
    }
    w.line(level + 1, str(e, "name"), value);
  }
}

function containers(
  w: DescribeWriter,
  level: number,
  title: string,
  list: JsonValue[],
  statuses: JsonValue[],
): void {
  if (list.length === 0) return;
  w.line(level, title);
  for (const c of list) {
    const name = str(c, "name");
    const status = statuses.find((s) => str(s, "name") === name);
    w.line(level + 1, name);
    if (status !== undefined) w.line(level + 2, "Container ID", str(status, "containerID"));
    w.line(level + 2, "Image", str(c, "image"));
    if (status !== undefined) w.line(level + 2, "Image ID", str(status, "imageID"));
    w.line(level + 2, "Port", ports(c));
    for (const [label, key] of [
      ["Command", "command"],
      ["Args", "args"],
    ] as const) {
      const words = arr(c, key).filter((x): x is string => typeof x === "string");
      if (words.length === 0) continue;
      w.line(level + 2, label);
      for (const word of words) w.raw(level + 3, word);
    }
    if (status !== undefined) {
      containerState(w, level + 2, "State", obj(status, "state"));
      if (obj(status, "lastState", "terminated") !== undefined) {
        containerState(w, level + 2, "Last State", obj(status, "lastState"));
      }
      w.line(level + 2, "Ready", bool(status, "ready") ? "True" : "False");
      w.line(level + 2, "Restart Count", `${num(status, "restartCount") ?? 0}`);
    }
    resources(w, level + 2, c);
    environment(w, level + 2, c);
    const mounts = arr(c, "volumeMounts");
    if (mounts.length === 0) w.line(level + 2, "Mounts", "<none>");
    else {
      w.line(level + 2, "Mounts");
      for (const m of mounts) {
        w.raw(
          level + 3,
          `${str(m, "mountPath")} from ${str(m, "name")} (${bool(m, "readOnly") ? "ro" : "rw"})`,
        );
      }
    }
  }
}

function conditions(w: DescribeWriter, list: JsonValue[], withReason: boolean): void {
  if (list.length === 0) return;
  w.line(0, "Conditions");
  w.raw(1, withReason ? "Type\tStatus\tReason" : "Type\tStatus");
  w.raw(1, withReason ? "----\t------\t------" : "----\t------");
  for (const c of list) {
    w.raw(
      1,
      withReason
        ? `${str(c, "type")}\t${str(c, "status")}\t${str(c, "reason")}`
        : `${str(c, "type")}\t${str(c, "status")}`,
    );
  }
}

function volumes(w: DescribeWriter, level: number, list: JsonValue[]): void {
  if (list.length === 0) {
    w.line(level, "Volumes", "<none>");
    return;
  }
  w.line(level, "Volumes");
  for (const v of list) {
    w.line(level + 1, str(v, "name"));
    const source = Object.keys(obj(v) ?? {}).find((k) => k !== "name");
    if (source === undefined) continue;
    w.line(level + 2, "Type", source);
    for (const [key, value] of Object.entries(obj(v, source) ?? {})) {
      if (typeof value !== "object") w.line(level + 2, fieldTitle(key), `${value}`);
    }
  }
}

function tolerations(o: JsonObject): string[] {
  return arr(o, "spec", "tolerations").map((t) => {
    const key = str(t, "key");
    const value = str(t, "value");
    const effect = str(t, "effect");
    const seconds = num(t, "tolerationSeconds");
    let text = key === "" ? "" : value === "" ? key : `${key}=${value}`;
    if (effect !== "") text += `:${effect}`;
    if (str(t, "operator") === "Exists" && key === "") text = `op=Exists${text}`;
    if (seconds !== undefined) text += ` for ${seconds}s`;
    return text;
  });
}

export function describePod(o: JsonObject, now: Date): string {
  const w = new DescribeWriter();
  header(w, o, true);
  w.line(0, "Priority", `${num(o, "spec", "priority") ?? 0}`);
  w.line(0, "Service Account", str(o, "spec", "serviceAccountName") || "default");
  const node = str(o, "spec", "nodeName");
  w.line(0, "Node", node === "" ? "<none>" : `${node}/${str(o, "status", "hostIP")}`);
  const start = str(o, "status", "startTime");
  if (start !== "") w.line(0, "Start Time", describeTime(start));
  labelsAndAnnotations(w, o);
  const deleting = str(o, "metadata", "deletionTimestamp");
  if (deleting !== "") {
    w.line(0, "Status", `Terminating (lasts ${ageSince(deleting, now)})`);
    w.line(
      0,
      "Termination Grace Period",
      `${num(o, "metadata", "deletionGracePeriodSeconds") ?? 0}s`,
    );
  } else {
    w.line(0, "Status", str(o, "status", "phase") || podColumns(o, now).status);
  }
  const reason = str(o, "status", "reason");
  if (reason !== "") w.line(0, "Reason", reason);
  const message = str(o, "status", "message");
  if (message !== "") w.line(0, "Message", message);
  w.line(0, "IP", str(o, "status", "podIP"));
  const ips = arr(o, "status", "podIPs");
  if (ips.length === 0) w.line(0, "IPs", "<none>");
  else {
    w.line(0, "IPs");
    for (const ip of ips) w.line(1, "IP", str(ip, "ip"));
  }
  const owner = controlledBy(o);
  if (owner !== undefined) w.line(0, "Controlled By", owner);
  containers(
    w,
    0,
    "Init Containers",
    arr(o, "spec", "initContainers"),
    arr(o, "status", "initContainerStatuses"),
  );
  containers(
    w,
    0,
    "Containers",
    arr(o, "spec", "containers"),
    arr(o, "status", "containerStatuses"),
  );
  conditions(w, arr(o, "status", "conditions"), false);
  volumes(w, 0, arr(o, "spec", "volumes"));
  w.line(0, "QoS Class", str(o, "status", "qosClass") || "BestEffort");
  w.line(0, "Node-Selectors", formatMap(stringMap(o, "spec", "nodeSelector")));
  const tols = tolerations(o);
  w.line(0, "Tolerations", tols[0] ?? "<none>");
  for (const t of tols.slice(1)) w.raw(0, `\t${t}`);
  return w.toString();
}

function podTemplate(w: DescribeWriter, template: JsonValue | undefined): void {
  w.line(0, "Pod Template");
  w.map(1, "Labels", stringMap(template, "metadata", "labels"));
  containers(w, 1, "Containers", arr(template, "spec", "containers"), []);
  volumes(w, 1, arr(template, "spec", "volumes"));
}

export function describeDeployment(o: JsonObject): string {
  const w = new DescribeWriter();
  header(w, o, true);
  w.line(0, "CreationTimestamp", describeTime(str(o, "metadata", "creationTimestamp")));
  labelsAndAnnotations(w, o);
  w.line(0, "Selector", formatLabelSelector(obj(o, "spec", "selector")));
  const s = (k: string) => num(o, "status", k) ?? 0;
  w.line(
    0,
    "Replicas",
    `${num(o, "spec", "replicas") ?? 1} desired | ${s("updatedReplicas")} updated | ${s("replicas")} total | ${s("availableReplicas")} available | ${s("unavailableReplicas")} unavailable`,
  );
  const strategy = str(o, "spec", "strategy", "type") || "RollingUpdate";
  w.line(0, "StrategyType", strategy);
  w.line(0, "MinReadySeconds", `${num(o, "spec", "minReadySeconds") ?? 0}`);
  if (strategy === "RollingUpdate") {
    const ru = obj(o, "spec", "strategy", "rollingUpdate");
    const show = (v: JsonValue | undefined) => (v === undefined || v === null ? "25%" : `${v}`);
    w.line(
      0,
      "RollingUpdateStrategy",
      `${show(ru?.maxUnavailable)} max unavailable, ${show(ru?.maxSurge)} max surge`,
    );
  }
  podTemplate(w, obj(o, "spec", "template"));
  conditions(w, arr(o, "status", "conditions"), true);
  return w.toString();
}

export function describeReplicaSet(o: JsonObject): string {
  const w = new DescribeWriter();
  header(w, o, true);
  w.line(0, "Selector", formatLabelSelector(obj(o, "spec", "selector")));
  labelsAndAnnotations(w, o);
  const owner = controlledBy(o);
  if (owner !== undefined) w.line(0, "Controlled By", owner);
  w.line(
    0,
    "Replicas",
    `${num(o, "status", "replicas") ?? 0} current / ${num(o, "spec", "replicas") ?? 1} desired`,
  );
  podTemplate(w, obj(o, "spec", "template"));
  conditions(w, arr(o, "status", "conditions"), true);
  return w.toString();
}

export function describeNode(o: JsonObject): string {
  const w = new DescribeWriter();
  header(w, o, false);
  const roles = Object.keys(stringMap(o, "metadata", "labels"))
    .filter((k) => k.startsWith("node-role.kubernetes.io/"))
    .map((k) => k.slice("node-role.kubernetes.io/".length));
  w.line(0, "Roles", orNone(roles.join(",")));
  labelsAndAnnotations(w, o);
  w.line(0, "CreationTimestamp", describeTime(str(o, "metadata", "creationTimestamp")));
  const taints = arr(o, "spec", "taints").map((t) => {
    const value = str(t, "value");
    return `${str(t, "key")}${value === "" ? "" : `=${value}`}:${str(t, "effect")}`;
  });
  w.line(0, "Taints", taints[0] ?? "<none>");
  for (const t of taints.slice(1)) w.raw(0, `\t${t}`);
  w.line(0, "Unschedulable", bool(o, "spec", "unschedulable") ? "true" : "false");
  const conds = arr(o, "status", "conditions");
  if (conds.length > 0) {
    w.line(0, "Conditions");
    w.raw(1, "Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage");
    w.raw(1, "----\t------\t-----------------\t------------------\t------\t-------");
    for (const c of conds) {
      w.raw(
        1,
        [
          str(c, "type"),
          str(c, "status"),
          describeTime(str(c, "lastHeartbeatTime")),
          describeTime(str(c, "lastTransitionTime")),
          str(c, "reason"),
          str(c, "message"),
        ].join("\t"),
      );
    }
  }
  w.line(0, "Addresses");
  for (const a of arr(o, "status", "addresses")) w.line(1, str(a, "type"), str(a, "address"));
  for (const [title, key] of [
    ["Capacity", "capacity"],
    ["Allocatable", "allocatable"],
  ] as const) {
    const values = stringMap(o, "status", key);
    w.line(0, title);
    for (const name of Object.keys(values).sort()) w.line(1, name, values[name] ?? "");
  }
  const info = obj(o, "status", "nodeInfo");
  w.line(0, "System Info");
  for (const [title, key] of [
    ["Machine ID", "machineID"],
    ["System UUID", "systemUUID"],
    ["Boot ID", "bootID"],
    ["Kernel Version", "kernelVersion"],
    ["OS Image", "osImage"],
    ["Operating System", "operatingSystem"],
    ["Architecture", "architecture"],
    ["Container Runtime Version", "containerRuntimeVersion"],
    ["Kubelet Version", "kubeletVersion"],
  ] as const) {
    w.line(1, title, str(info, key));
  }
  w.line(0, "PodCIDR", str(o, "spec", "podCIDR"));
  return w.toString();
}

export function describeService(o: JsonObject, endpoints: JsonObject | undefined): string {
  const w = new DescribeWriter();
  header(w, o, true);
  labelsAndAnnotations(w, o);
  w.line(0, "Selector", formatMap(stringMap(o, "spec", "selector")));
  w.line(0, "Type", str(o, "spec", "type") || "ClusterIP");
  const families = arr(o, "spec", "ipFamilies").filter((f): f is string => typeof f === "string");
  if (str(o, "spec", "ipFamilyPolicy") !== "")
    w.line(0, "IP Family Policy", str(o, "spec", "ipFamilyPolicy"));
  if (families.length > 0) w.line(0, "IP Families", families.join(","));
  w.line(0, "IP", orNone(str(o, "spec", "clusterIP")));
  const ips = arr(o, "spec", "clusterIPs").filter((f): f is string => typeof f === "string");
  if (ips.length > 0) w.line(0, "IPs", ips.join(","));
  for (const p of arr(o, "spec", "ports")) {
    const name = str(p, "name") || "<unset>";
    const protocol = str(p, "protocol") || "TCP";
    w.line(0, "Port", `${name}\t${num(p, "port") ?? 0}/${protocol}`);
    const target = obj(p) === undefined ? undefined : (obj(p) as JsonObject).targetPort;
    w.line(0, "TargetPort", `${target ?? num(p, "port") ?? 0}/${protocol}`);
    const nodePort = num(p, "nodePort");
    if (nodePort !== undefined && nodePort !== 0)
      w.line(0, "NodePort", `${name}\t${nodePort}/${protocol}`);
    const addresses: string[] = [];
    for (const subset of arr(endpoints, "subsets")) {
      const port = arr(subset, "ports").find((ep) => str(ep, "name") === str(p, "name"));
      for (const a of arr(subset, "addresses")) {
        addresses.push(
          port === undefined ? str(a, "ip") : `${str(a, "ip")}:${num(port, "port") ?? 0}`,
        );
      }
    }
    w.line(0, "Endpoints", addresses.join(","));
  }
  if (arr(o, "spec", "ports").length === 0) w.line(0, "Port(s)", servicePorts(o));
  w.line(0, "Session Affinity", str(o, "spec", "sessionAffinity") || "None");
  const policy = str(o, "spec", "externalTrafficPolicy");
  if (policy !== "") w.line(0, "External Traffic Policy", policy);
  return w.toString();
}

/** "clusterIP" -> "Cluster IP", "nodeName" -> "Node Name", as kubectl's generic describer titles fields. */
export function fieldTitle(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .split(" ");
  return words.map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join(" ");
}

function genericValue(
  w: DescribeWriter,
  level: number,
  key: string,
  value: JsonValue | undefined,
): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v !== "object" || v === null)) {
      w.line(level, key, value.map((v) => `${v}`).join(", "));
      return;
    }
    w.line(level, key);
    for (const item of value) {
      if (typeof item === "object" && item !== null && !Array.isArray(item)) {
        for (const [k, v] of Object.entries(item)) genericValue(w, level + 1, fieldTitle(k), v);
      } else {
        w.raw(level + 1, `${item}`);
      }
    }
    return;
  }
  if (typeof value === "object") {
    w.line(level, key);
    for (const [k, v] of Object.entries(value)) genericValue(w, level + 1, fieldTitle(k), v);
    return;
  }
  w.line(level, key, `${value}`);
}

/** Any kind: Name, Namespace, Labels, Annotations, then every other field, nested. */
export function describeGeneric(o: JsonObject, namespaced: boolean): string {
  const w = new DescribeWriter();
  header(w, o, namespaced);
  labelsAndAnnotations(w, o);
  w.line(0, "API Version", str(o, "apiVersion"));
  w.line(0, "Kind", str(o, "kind"));
  w.line(0, "Creation Timestamp", describeTime(str(o, "metadata", "creationTimestamp")));
  for (const [key, value] of Object.entries(o)) {
    if (key === "apiVersion" || key === "kind" || key === "metadata") continue;
    genericValue(w, 0, fieldTitle(key), value);
  }
  return w.toString();
}

/** kubectl describe's Events section: Type Reason Age From Message; "Events:  <none>" if empty. */
export function describeEvents(events: readonly JsonObject[], now: Date): string {
  const w = new DescribeWriter();
  if (events.length === 0) {
    w.line(0, "Events", "<none>");
    return w.toString();
  }
  w.line(0, "Events");
  w.raw(1, "Type\tReason\tAge\tFrom\tMessage");
  w.raw(1, "----\t------\t----\t----\t-------");
  const sorted = [...events].sort((a, b) => Date.parse(lastSeen(a)) - Date.parse(lastSeen(b)));
  for (const e of sorted) {
    const count = num(e, "count") ?? 1;
    const first = str(e, "firstTimestamp") || str(e, "eventTime");
    const age =
      count > 1 && first !== ""
        ? `${ageSince(lastSeen(e), now)} (x${count} over ${ageSince(first, now)})`
        : ageSince(lastSeen(e), now);
    const from = str(e, "source", "component") || str(e, "reportingComponent");
    w.raw(
      1,
      `${str(e, "type")}\t${str(e, "reason")}\t${age}\t${from}\t${str(e, "message").trim()}`,
    );
  }
  return w.toString();
}

function lastSeen(e: JsonObject): string {
  return (
    str(e, "lastTimestamp") ||
    str(e, "eventTime") ||
    str(e, "firstTimestamp") ||
    str(e, "metadata", "creationTimestamp")
  );
}

/** A ConfigMap as kubectl shows it: each key, a rule, its value. */
export function describeConfigMap(o: JsonObject): string {
  const w = new DescribeWriter();
  header(w, o, true);
  labelsAndAnnotations(w, o);
  w.raw(0, "");
  w.raw(0, "Data");
  w.raw(0, "====");
  const data = stringMap(o, "data");
  for (const key of Object.keys(data).sort()) {
    w.raw(0, `${key}:`);
    w.raw(0, "----");
    w.raw(0, data[key] ?? "");
    w.raw(0, "");
  }
  w.raw(0, "");
  w.raw(0, "BinaryData");
  w.raw(0, "====");
  for (const [key, value] of Object.entries(stringMap(o, "binaryData")).sort()) {
    w.raw(0, `${key}: ${Math.floor((value.length * 3) / 4)} bytes`);
  }
  w.raw(0, "");
  return w.toString();
}

/** A Secret as kubectl shows it: sizes only, never the values. */
export function describeSecret(o: JsonObject): string {
  const w = new DescribeWriter();
  header(w, o, true);
  labelsAndAnnotations(w, o);
  w.raw(0, "");
  w.line(0, "Type", str(o, "type") || "Opaque");
  w.raw(0, "");
  w.raw(0, "Data");
  w.raw(0, "====");
  const data = stringMap(o, "data");
  for (const key of Object.keys(data).sort()) {
    const encoded = data[key] ?? "";
    const padding = encoded.endsWith("==") ? 2 : encoded.endsWith("=") ? 1 : 0;
    w.line(0, key, `${Math.floor((encoded.length * 3) / 4) - padding} bytes`);
  }
  return w.toString();
}
