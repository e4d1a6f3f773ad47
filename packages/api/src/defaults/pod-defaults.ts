// Defaults of pods and pod templates, as the Kubernetes API server sets them before
// validation (k8s.io/kubernetes/pkg/apis/core/v1/defaults.go: SetDefaults_Pod,
// SetDefaults_PodSpec, SetDefaults_Container, SetDefaults_Probe, SetDefaults_Volume, ...).
// Every function fills only fields that are unset, so applying defaults twice changes nothing.
// Reference: https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/

import { create } from "@bufbuild/protobuf";
import type {
  Container,
  ContainerPort,
  EnvVar,
  HTTPGetAction,
  Lifecycle,
  LifecycleHandler,
  Probe,
} from "../gen/tug/core/v1/container_pb.js";
import {
  type Pod,
  PodSecurityContextSchema,
  type PodSpec,
  type PodTemplateSpec,
} from "../gen/tug/core/v1/pod_pb.js";
import {
  type DownwardAPIVolumeFile,
  EmptyDirVolumeSourceSchema,
  type Volume,
} from "../gen/tug/core/v1/volume_pb.js";

/** 0644: the file mode of secret, configMap, downwardAPI and projected volumes (DefaultMode). */
export const DEFAULT_VOLUME_FILE_MODE = 0o644;
/** SetDefaults_PodSpec: the grace period a pod gets between SIGTERM and SIGKILL. */
export const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30;
/** SetDefaults_PodSpec: the scheduler that binds pods that do not name one. */
export const DEFAULT_SCHEDULER_NAME = "default-scheduler";
/** SetDefaults_Container: where a container writes its termination message. */
export const DEFAULT_TERMINATION_MESSAGE_PATH = "/dev/termination-log";
/** SetDefaults_ServiceAccountTokenProjection: one hour. */
export const DEFAULT_TOKEN_EXPIRATION_SECONDS = 3600;

/**
 * Pod: the pod spec's defaults, plus what Kubernetes sets only on pods and not on templates
 * (SetDefaults_Pod): requests copied from limits for resources that have a limit and no
 * request, enableServiceLinks true, and with hostNetwork each unset hostPort set to its
 * containerPort.
 */
export function defaultPod(pod: Pod): void {
  const spec = pod.spec;
  if (spec === undefined) return;
  for (const container of [...spec.initContainers, ...spec.containers]) {
    const resources = container.resources;
    if (resources === undefined) continue;
    for (const [name, limit] of Object.entries(resources.limits)) {
      if (!(name in resources.requests)) resources.requests[name] = limit;
    }
  }
  spec.enableServiceLinks ??= true;
  if (spec.hostNetwork) {
    for (const container of [...spec.initContainers, ...spec.containers]) {
      for (const port of container.ports) {
        if (port.hostPort === 0) port.hostPort = port.containerPort;
      }
    }
  }
  defaultPodSpec(spec);
}

/** A pod template (Deployment, ReplicaSet, DaemonSet, StatefulSet, Job, CronJob). */
export function defaultPodTemplate(template: PodTemplateSpec | undefined): void {
  if (template?.spec !== undefined) defaultPodSpec(template.spec);
}

/** SetDefaults_PodSpec and the defaults of everything a pod spec holds. */
export function defaultPodSpec(spec: PodSpec): void {
  // "ClusterFirst": the cluster DNS first, then the node's resolvers.
  if (spec.dnsPolicy === "") spec.dnsPolicy = "ClusterFirst";
  if (spec.restartPolicy === "") spec.restartPolicy = "Always";
  spec.securityContext ??= create(PodSecurityContextSchema, {});
  spec.terminationGracePeriodSeconds ??= DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS;
  if (spec.schedulerName === "") spec.schedulerName = DEFAULT_SCHEDULER_NAME;
  // serviceAccountName "default" is the ServiceAccount admission plugin's, not a default.
  for (const volume of spec.volumes) defaultVolume(volume);
  for (const container of [...spec.initContainers, ...spec.containers]) {
    defaultContainer(container);
  }
}

/**
 * SetDefaults_Container: imagePullPolicy Always for an image tagged `latest` or untagged (the
 * tag may move), otherwise IfNotPresent; termination message at /dev/termination-log, read
 * from the file; and the defaults of its ports, env, probes and hooks.
 */
export function defaultContainer(container: Container): void {
  if (container.imagePullPolicy === "") {
    container.imagePullPolicy = imageTag(container.image) === "latest" ? "Always" : "IfNotPresent";
  }
  if (container.terminationMessagePath === "") {
    container.terminationMessagePath = DEFAULT_TERMINATION_MESSAGE_PATH;
  }
  if (container.terminationMessagePolicy === "") container.terminationMessagePolicy = "File";
  for (const port of container.ports) defaultContainerPort(port);
  for (const env of container.env) defaultEnvVar(env);
  for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
    if (probe !== undefined) defaultProbe(probe);
  }
  defaultLifecycle(container.lifecycle);
}

/**
 * The tag of an image reference, as Kubernetes' parsers.ParseImageName reads it: the part after
 * the last ':' of the last path component, "" when the image is pinned by digest only, and
 * "latest" when it has neither tag nor digest.
 */
export function imageTag(image: string): string {
  const at = image.indexOf("@");
  const name = at >= 0 ? image.slice(0, at) : image;
  const lastComponent = name.slice(name.lastIndexOf("/") + 1);
  const colon = lastComponent.lastIndexOf(":");
  if (colon >= 0) return lastComponent.slice(colon + 1);
  return at >= 0 ? "" : "latest";
}

/** SetDefaults_ContainerPort: protocol TCP. */
function defaultContainerPort(port: ContainerPort): void {
  if (port.protocol === "") port.protocol = "TCP";
}

/** SetDefaults_ObjectFieldSelector: apiVersion v1, for env valueFrom.fieldRef. */
function defaultEnvVar(env: EnvVar): void {
  const fieldRef = env.valueFrom?.fieldRef;
  if (fieldRef !== undefined && fieldRef.apiVersion === "") fieldRef.apiVersion = "v1";
}

/**
 * SetDefaults_Probe: timeoutSeconds 1, periodSeconds 10, successThreshold 1, failureThreshold 3
 * (0 is unset: Kubernetes rejects 0 for all four); and the httpGet defaults.
 */
export function defaultProbe(probe: Probe): void {
  if (probe.timeoutSeconds === 0) probe.timeoutSeconds = 1;
  if (probe.periodSeconds === 0) probe.periodSeconds = 10;
  if (probe.successThreshold === 0) probe.successThreshold = 1;
  if (probe.failureThreshold === 0) probe.failureThreshold = 3;
  defaultHttpGet(probe.httpGet);
}

/** SetDefaults_HTTPGetAction: path "/", scheme HTTP. */
function defaultHttpGet(action: HTTPGetAction | undefined): void {
  if (action === undefined) return;
  if (action.path === "") action.path = "/";
  if (action.scheme === "") action.scheme = "HTTP";
}

function defaultLifecycle(lifecycle: Lifecycle | undefined): void {
  const handlers: (LifecycleHandler | undefined)[] = [lifecycle?.postStart, lifecycle?.preStop];
  for (const handler of handlers) defaultHttpGet(handler?.httpGet);
}

/**
 * SetDefaults_Volume and the sources' defaults: a volume with no source is an emptyDir;
 * secret, configMap, downwardAPI and projected files get mode 0644 (420); fieldRefs
 * apiVersion v1; service account tokens expire after an hour.
 */
export function defaultVolume(volume: Volume): void {
  const hasSource =
    volume.hostPath !== undefined ||
    volume.emptyDir !== undefined ||
    volume.secret !== undefined ||
    volume.configMap !== undefined ||
    volume.persistentVolumeClaim !== undefined ||
    volume.downwardApi !== undefined ||
    volume.projected !== undefined ||
    volume.nfs !== undefined;
  if (!hasSource) volume.emptyDir = create(EmptyDirVolumeSourceSchema, {});
  if (volume.hostPath !== undefined) volume.hostPath.type ??= "";
  if (volume.secret !== undefined) volume.secret.defaultMode ??= DEFAULT_VOLUME_FILE_MODE;
  if (volume.configMap !== undefined) volume.configMap.defaultMode ??= DEFAULT_VOLUME_FILE_MODE;
  if (volume.downwardApi !== undefined) {
    volume.downwardApi.defaultMode ??= DEFAULT_VOLUME_FILE_MODE;
    defaultDownwardApiFiles(volume.downwardApi.items);
  }
  if (volume.projected !== undefined) {
    volume.projected.defaultMode ??= DEFAULT_VOLUME_FILE_MODE;
    for (const source of volume.projected.sources) {
      if (source.downwardApi !== undefined) defaultDownwardApiFiles(source.downwardApi.items);
      if (source.serviceAccountToken !== undefined) {
        source.serviceAccountToken.expirationSeconds ??= DEFAULT_TOKEN_EXPIRATION_SECONDS;
      }
    }
  }
}

function defaultDownwardApiFiles(files: DownwardAPIVolumeFile[]): void {
  for (const file of files) {
    if (file.fieldRef !== undefined && file.fieldRef.apiVersion === "") {
      file.fieldRef.apiVersion = "v1";
    }
  }
}
