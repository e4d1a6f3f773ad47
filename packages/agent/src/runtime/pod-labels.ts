// The labels and annotations the agent puts on CRI sandboxes and containers: the kubelet's
// io.kubernetes.* keys (pkg/kubelet/kuberuntime/labels.go), so that a restarted agent can tell
// from the runtime alone which pod and container each one belongs to, plus tug's node label so
// that several agents sharing one Docker engine (`tug up`, tests) see only their own.

/** CRI label keys. */
export const POD_LABEL = {
  podName: "io.kubernetes.pod.name",
  podNamespace: "io.kubernetes.pod.namespace",
  podUid: "io.kubernetes.pod.uid",
  containerName: "io.kubernetes.container.name",
  /** The node (agent) that made the object; every listing filters on it. */
  node: "io.tug.agent.node",
  /** "init" or "app": which list of the pod spec the container comes from. */
  containerKind: "io.tug.agent.container.kind",
} as const;

/** CRI annotation keys (kept on the runtime object, read back on adoption). */
export const POD_ANNOTATION = {
  /** The pod's terminationGracePeriodSeconds when the sandbox/container was made. */
  terminationGracePeriod: "io.kubernetes.pod.terminationGracePeriod",
  /** The container's preStop exec command, as JSON (run on kill even if the pod is gone). */
  preStopExec: "io.tug.agent.container.preStopExec",
  /** The host file bind-mounted at the container's terminationMessagePath. */
  terminationMessageHostPath: "io.tug.agent.container.terminationMessageHostPath",
  /** The container's terminationMessagePolicy (File or FallbackToLogsOnError). */
  terminationMessagePolicy: "io.kubernetes.container.terminationMessagePolicy",
} as const;

/** The labels of a pod's sandbox. */
export function sandboxLabels(
  node: string,
  pod: { name: string; namespace: string; uid: string },
  podLabels: Readonly<Record<string, string>>,
): Record<string, string> {
  return {
    ...podLabels,
    [POD_LABEL.podName]: pod.name,
    [POD_LABEL.podNamespace]: pod.namespace,
    [POD_LABEL.podUid]: pod.uid,
    [POD_LABEL.node]: node,
  };
}

/** The labels of one container of a pod. */
export function containerLabels(
  node: string,
  pod: { name: string; namespace: string; uid: string },
  container: string,
  kind: "init" | "app",
): Record<string, string> {
  return {
    [POD_LABEL.podName]: pod.name,
    [POD_LABEL.podNamespace]: pod.namespace,
    [POD_LABEL.podUid]: pod.uid,
    [POD_LABEL.containerName]: container,
    [POD_LABEL.containerKind]: kind,
    [POD_LABEL.node]: node,
  };
}
