// How CRI objects are recorded on Docker containers: the names and the labels that let a
// restarted runtime (and a restarted agent) find and adopt every sandbox and container that
// exists, as cri-dockerd does with its k8s_ names and io.kubernetes.* labels. CRI labels are
// stored as Docker labels unchanged; CRI annotations as Docker labels prefixed "annotation."
// (cri-dockerd's convention); tug's own bookkeeping under "io.tug.cri.".

/** The prefix of every Docker container name this runtime creates. */
export const NAME_PREFIX = "tug";

/** The container name part that marks a sandbox (pause) container, as cri-dockerd's "POD". */
export const SANDBOX_CONTAINER_NAME = "POD";

/** Docker label keys of tug's bookkeeping. */
export const LABEL = {
  /** "podsandbox" or "container". */
  type: "io.tug.cri.type",
  /**
   * The runtime instance that owns the object (--instance): several tug-cri-docker instances
   * (several agents of a local cluster) can share one engine without seeing each other's pods.
   */
  instance: "io.tug.cri.instance",
  podName: "io.tug.cri.pod.name",
  podNamespace: "io.tug.cri.pod.namespace",
  podUid: "io.tug.cri.pod.uid",
  sandboxAttempt: "io.tug.cri.sandbox.attempt",
  /** A container's sandbox id (the pause container's Docker id). */
  sandboxId: "io.tug.cri.sandbox.id",
  /** The sandbox's PodSandboxConfig.log_directory. */
  logDirectory: "io.tug.cri.sandbox.log-directory",
  /** The sandbox's runtime handler. */
  runtimeHandler: "io.tug.cri.sandbox.runtime-handler",
  containerName: "io.tug.cri.container.name",
  containerAttempt: "io.tug.cri.container.attempt",
  /** The container's absolute CRI log path (log_directory joined with log_path). */
  logPath: "io.tug.cri.container.log-path",
  /**
   * The keys of the CRI labels, as a JSON array: Docker merges the image's labels into the
   * container's, and CRI's labels must come back exactly as given.
   */
  labelKeys: "io.tug.cri.label-keys",
} as const;

export const TYPE_SANDBOX = "podsandbox";
export const TYPE_CONTAINER = "container";

const ANNOTATION_PREFIX = "annotation.";
const INTERNAL_PREFIX = "io.tug.cri.";

/** The Docker labels recording CRI labels and annotations (tug's own labels are added apart). */
export function criToDockerLabels(
  labels: Readonly<Record<string, string>>,
  annotations: Readonly<Record<string, string>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) out[k] = v;
  for (const [k, v] of Object.entries(annotations)) out[ANNOTATION_PREFIX + k] = v;
  out[LABEL.labelKeys] = JSON.stringify(Object.keys(labels).sort());
  return out;
}

/** Splits Docker labels back into the CRI labels and annotations they recorded. */
export function dockerToCriLabels(docker: Readonly<Record<string, string>> | undefined): {
  labels: Record<string, string>;
  annotations: Record<string, string>;
} {
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  const keys = labelKeys(docker?.[LABEL.labelKeys]);
  for (const [k, v] of Object.entries(docker ?? {})) {
    if (k.startsWith(INTERNAL_PREFIX)) continue;
    if (k.startsWith(ANNOTATION_PREFIX)) annotations[k.slice(ANNOTATION_PREFIX.length)] = v;
    else if (keys === undefined || keys.has(k)) labels[k] = v;
  }
  return { labels, annotations };
}

/** The recorded CRI label keys; undefined when absent (then every plain label is CRI's). */
function labelKeys(json: string | undefined): Set<string> | undefined {
  if (json === undefined) return undefined;
  try {
    const keys: unknown = JSON.parse(json);
    return Array.isArray(keys) ? new Set(keys.map(String)) : undefined;
  } catch {
    return undefined;
  }
}

/** The instance name of a runtime started without one. */
export const DEFAULT_INSTANCE = "default";

/** Docker "label" filter values selecting `instance`'s objects of `type`. */
export function ownedFilters(instance: string, type: string): string[] {
  return [`${LABEL.type}=${type}`, `${LABEL.instance}=${instance}`];
}

/** Whether Docker labels mark an object of `type` owned by `instance`. */
export function isOwned(
  labels: Readonly<Record<string, string>> | undefined,
  instance: string,
  type: string,
): boolean {
  return labels?.[LABEL.type] === type && labels?.[LABEL.instance] === instance;
}

/** Docker's "label" filter values for a CRI label selector (exact matches, ANDed). */
export function labelFilters(selector: Readonly<Record<string, string>>): string[] {
  return Object.entries(selector).map(([k, v]) => `${k}=${v}`);
}

/** `tug_POD_<pod>_<namespace>_<uid>_<attempt>`: a sandbox's Docker container name. */
export function sandboxName(pod: string, namespace: string, uid: string, attempt: number): string {
  return [NAME_PREFIX, SANDBOX_CONTAINER_NAME, pod, namespace, uid, String(attempt)].join("_");
}

/** `tug_<container>_<pod>_<namespace>_<uid>_<attempt>`: an app container's Docker name. */
export function containerName(
  container: string,
  pod: string,
  namespace: string,
  uid: string,
  attempt: number,
): string {
  return [NAME_PREFIX, container, pod, namespace, uid, String(attempt)].join("_");
}

/** A label value parsed as a non-negative integer (an attempt); 0 when absent or malformed. */
export function labelNumber(labels: Readonly<Record<string, string>>, key: string): number {
  const n = Number.parseInt(labels[key] ?? "", 10);
  return Number.isFinite(n) && n >= 0 ? n : 0;
}
