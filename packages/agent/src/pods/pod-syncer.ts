// One sync of one pod (the kubelet's SyncPod / computePodActions, and killPod): compare what
// the pod spec wants with what the runtime holds, and take the next steps — a sandbox, image
// pulls, the next init container, the app containers, restarts per restartPolicy with
// back-off, kills for failed liveness/startup probes — then report what it saw.
// Every decision is made from the runtime's state (read through CRI), never from memory, so a
// restarted agent continues where the last one stopped; the in-memory parts (back-off, probe
// results) only delay or add restarts.

import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { type Container, ContainerSchema, ExecActionSchema, type Pod } from "@tug/api";
import { type CriClient, cri } from "@tug/cri-docker";
import type { EventRecorder } from "../events/event-recorder.js";
import { errorText, type Logger } from "../log.js";
import type { ProbeManager } from "../probes/probe-manager.js";
import { type ProbeHandler, runHandler } from "../probes/probe-runner.js";
import { POD_ANNOTATION, sandboxLabels } from "../runtime/pod-labels.js";
import type { PodNetwork } from "../runtime/pod-network.js";
import {
  latestContainer,
  type RuntimeContainer,
  type RuntimePod,
  readRuntimePod,
  recordedGraceSeconds,
} from "../runtime/runtime-pod.js";
import {
  type PreparedVolume,
  podDir,
  VolumeError,
  type VolumeManager,
} from "../volumes/volume-manager.js";
import { goDuration, type RestartBackOff } from "./back-off.js";
import type { ConfigSources } from "./config-sources.js";
import { containerConfig } from "./container-config.js";
import { ContainerConfigError, CREATE_CONTAINER_CONFIG_ERROR } from "./container-config-error.js";
import { containerEnv } from "./container-env.js";
import type { PodRuntimeFacts } from "./downward-api.js";
import { containerKey, initialized, type WaitingReason } from "./pod-status.js";

/** The kubelet's shortest grace period when killing a container (minimumGracePeriodInSeconds). */
export const MIN_GRACE_SECONDS = 2;
/** Grace period when nothing says otherwise (the API's terminationGracePeriodSeconds default). */
export const DEFAULT_GRACE_SECONDS = 30;
/** How soon to look again at a pod whose next step waits on something (a running init container, a pull). */
const WAIT_RECHECK_MS = 1_000;

export interface PodSyncerOptions {
  node: string;
  runtime: CriClient;
  network: PodNetwork;
  volumes: VolumeManager;
  sources: ConfigSources;
  probes: ProbeManager;
  backOff: RestartBackOff;
  /** Back-off of failed image pulls (ImagePullBackOff). */
  pullBackOff: RestartBackOff;
  /** The agent's root dir (pods/<uid>/... lives under it). */
  rootDir: string;
  /** Directory of the pods' CRI log directories. */
  podLogsDir: string;
  hostIp: () => string;
  allocatable: () => Readonly<Record<string, string>>;
  /** Cluster DNS server IPs and domain for dnsPolicy ClusterFirst; none: the runtime's default. */
  clusterDns: readonly string[];
  clusterDomain: string;
  log: Logger;
  events: EventRecorder;
  /** Counts container starts (metrics). */
  onContainerStarted?: () => void;
}

/** What a sync saw and decided. */
export interface SyncResult {
  runtime: RuntimePod;
  sandboxId: string | undefined;
  podIp: string;
  waiting: Map<string, WaitingReason>;
  /** Sync again after this many ms (a back-off expiring, a step to wait for). */
  requeueAfterMs: number | undefined;
}

function podRef(pod: Pod): { name: string; namespace: string; uid: string } {
  const md = pod.metadata;
  return { name: md?.name ?? "", namespace: md?.namespace ?? "", uid: md?.uid ?? "" };
}

/** The kubelet's shouldRestartOnFailure / restart decision for an exited container. */
function shouldRestart(policy: string, exitCode: number): boolean {
  if (policy === "Never") return false;
  if (policy === "OnFailure") return exitCode !== 0;
  return true;
}

export class PodSyncer {
  constructor(private readonly o: PodSyncerOptions) {}

  /** The sandbox log directory of a pod (the kubelet's /var/log/pods/<ns>_<name>_<uid>). */
  logDirectory(pod: { name: string; namespace: string; uid: string }): string {
    return join(this.o.podLogsDir, `${pod.namespace}_${pod.name}_${pod.uid}`);
  }

  private facts(podIp: string): PodRuntimeFacts {
    return { podIp, hostIp: this.o.hostIp(), allocatable: this.o.allocatable() };
  }

  private sandboxConfig(pod: Pod, attempt: number): cri.PodSandboxConfig {
    const ref = podRef(pod);
    const spec = pod.spec;
    const hostNetwork = spec?.hostNetwork ?? false;
    const dns = spec?.dnsConfig;
    const policy = spec?.dnsPolicy || "ClusterFirst";
    const clusterFirst =
      (policy === "ClusterFirst" && !hostNetwork) || policy === "ClusterFirstWithHostNet";
    const servers: string[] = [];
    const searches: string[] = [];
    const options: string[] = [];
    if (clusterFirst && this.o.clusterDns.length > 0) {
      servers.push(...this.o.clusterDns);
      const d = this.o.clusterDomain;
      searches.push(`${ref.namespace}.svc.${d}`, `svc.${d}`, d);
      options.push("ndots:5");
    }
    if (dns !== undefined) {
      servers.push(...dns.nameservers);
      searches.push(...dns.searches);
      options.push(
        ...dns.options.map((o) => (o.value === undefined ? o.name : `${o.name}:${o.value}`)),
      );
    }
    const portMappings = (spec?.containers ?? []).flatMap((c) =>
      c.ports
        .filter((p) => p.hostPort > 0)
        .map((p) =>
          create(cri.PortMappingSchema, {
            containerPort: p.containerPort,
            hostPort: p.hostPort,
            hostIp: p.hostIp,
            protocol:
              p.protocol === "UDP"
                ? cri.Protocol.UDP
                : p.protocol === "SCTP"
                  ? cri.Protocol.SCTP
                  : cri.Protocol.TCP,
          }),
        ),
    );
    return create(cri.PodSandboxConfigSchema, {
      metadata: { ...ref, attempt },
      hostname: hostNetwork ? "" : spec?.hostname || ref.name,
      logDirectory: this.logDirectory(ref),
      ...(servers.length + searches.length + options.length > 0 && {
        dnsConfig: { servers, searches, options },
      }),
      portMappings,
      labels: sandboxLabels(this.o.node, ref, pod.metadata?.labels ?? {}),
      annotations: {
        ...(pod.metadata?.annotations ?? {}),
        [POD_ANNOTATION.terminationGracePeriod]: String(
          spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS,
        ),
      },
      linux: {
        securityContext: {
          namespaceOptions: {
            ...this.o.network.hostNetworkMode(hostNetwork),
            pid: spec?.hostPid ? cri.NamespaceMode.NODE : cri.NamespaceMode.POD,
            ipc: spec?.hostIpc ? cri.NamespaceMode.NODE : cri.NamespaceMode.POD,
          },
        },
      },
    });
  }

  private async podIpOf(pod: Pod, sandboxId: string | undefined): Promise<string> {
    if (sandboxId === undefined) return "";
    const st = await this.o.runtime.runtime
      .podSandboxStatus({ podSandboxId: sandboxId })
      .then((r) => r.status)
      .catch(() => undefined);
    return this.o.network.podIp(st, pod.spec?.hostNetwork ?? false, this.o.hostIp());
  }

  /** Brings one live (not terminating, not terminal) pod a step closer to its spec. */
  async sync(pod: Pod): Promise<SyncResult> {
    const ref = podRef(pod);
    const spec = pod.spec;
    const policy = spec?.restartPolicy || "Always";
    const waiting = new Map<string, WaitingReason>();
    let requeue: number | undefined;
    const want = (ms: number) => {
      requeue = requeue === undefined ? ms : Math.min(requeue, ms);
    };
    let rp = await readRuntimePod(this.o.runtime, this.o.node, ref);

    // 1. The sandbox: the newest ready one, or a new one with the next attempt number.
    let sandbox = rp.sandboxes.find((s) => s.ready);
    if (sandbox === undefined) {
      const ranBefore = rp.containers.some((c) => c.kind === "app");
      const allDoneForGood =
        ranBefore &&
        (spec?.containers ?? []).every((c) => {
          const l = latestContainer(rp, c.name, "app");
          return l !== undefined && l.state === "exited" && !shouldRestart(policy, l.exitCode);
        });
      if (allDoneForGood) {
        return { runtime: rp, sandboxId: undefined, podIp: "", waiting, requeueAfterMs: undefined };
      }
      // Containers left in an old sandbox must not outlive it.
      await this.killContainers(
        rp.containers.filter((c) => c.state === "running"),
        pod,
        undefined,
        "sandbox changed",
      );
      if (rp.sandboxes.length > 0) {
        this.o.events.pod(
          pod,
          "Normal",
          "SandboxChanged",
          "Pod sandbox changed, it will be killed and re-created.",
        );
      }
      const attempt =
        rp.sandboxes.length === 0 ? 0 : Math.max(...rp.sandboxes.map((s) => s.attempt)) + 1;
      try {
        await this.o.runtime.runtime.runPodSandbox({ config: this.sandboxConfig(pod, attempt) });
      } catch (e) {
        this.o.events.pod(
          pod,
          "Warning",
          "FailedCreatePodSandBox",
          `Failed to create pod sandbox: ${errorText(e)}`,
        );
        this.o.log.warn("cannot create the pod sandbox", {
          pod: `${ref.namespace}/${ref.name}`,
          error: errorText(e),
        });
        for (const c of spec?.containers ?? []) {
          waiting.set(containerKey("app", c.name), {
            reason: "ContainerCreating",
            message: `Failed to create pod sandbox: ${errorText(e)}`,
          });
        }
        return { runtime: rp, sandboxId: undefined, podIp: "", waiting, requeueAfterMs: 5_000 };
      }
      rp = await readRuntimePod(this.o.runtime, this.o.node, ref);
      sandbox = rp.sandboxes.find((s) => s.ready);
      if (sandbox === undefined) {
        return {
          runtime: rp,
          sandboxId: undefined,
          podIp: "",
          waiting,
          requeueAfterMs: WAIT_RECHECK_MS,
        };
      }
    }
    const sandboxId = sandbox.id;
    const podIp = await this.podIpOf(pod, sandboxId);
    const facts = this.facts(podIp);

    // 2. Volumes (refreshed every sync: configMap and secret contents follow their objects).
    let volumes: Map<string, PreparedVolume>;
    try {
      volumes = await this.o.volumes.prepare(pod, facts);
    } catch (e) {
      const message = `MountVolume.SetUp failed: ${errorText(e)}`;
      this.o.events.pod(pod, "Warning", "FailedMount", message);
      if (!(e instanceof VolumeError))
        this.o.log.warn("volume setup failed", {
          pod: `${ref.namespace}/${ref.name}`,
          error: errorText(e),
        });
      for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) {
        const kind = (spec?.initContainers ?? []).includes(c) ? "init" : "app";
        if (latestContainer(rp, c.name, kind) === undefined) {
          waiting.set(containerKey(kind, c.name), { reason: "ContainerCreating", message });
        }
      }
      return { runtime: rp, sandboxId, podIp, waiting, requeueAfterMs: 2_000 };
    }

    // 3. Init containers, one at a time, in order.
    const inits = spec?.initContainers ?? [];
    if (!initialized(pod, rp, sandboxId)) {
      for (const c of inits) {
        const latest = latestContainer(rp, c.name, "init");
        const current = latest !== undefined && latest.sandboxId === sandboxId ? latest : undefined;
        if (current?.state === "exited" && current.exitCode === 0) continue;
        if (current?.state === "running") {
          want(WAIT_RECHECK_MS);
          break;
        }
        if (current?.state === "exited") {
          if (policy === "Never") break; // the pod has failed
          await this.restartWithBackOff(
            pod,
            c,
            "init",
            current,
            sandboxId,
            volumes,
            facts,
            waiting,
            want,
          );
          break;
        }
        await this.start(
          pod,
          c,
          "init",
          latest === undefined ? 0 : latest.attempt + 1,
          current,
          sandboxId,
          volumes,
          facts,
          waiting,
          want,
        );
        break;
      }
      rp = await readRuntimePod(this.o.runtime, this.o.node, ref);
      if (!initialized(pod, rp, sandboxId)) {
        this.retainProbes(pod, rp, sandboxId, podIp);
        return { runtime: rp, sandboxId, podIp, waiting, requeueAfterMs: requeue };
      }
    }

    // 4. App containers.
    for (const c of spec?.containers ?? []) {
      const latest = latestContainer(rp, c.name, "app");
      if (latest === undefined) {
        await this.start(pod, c, "app", 0, undefined, sandboxId, volumes, facts, waiting, want);
        continue;
      }
      if (latest.state === "running") {
        if (latest.sandboxId !== sandboxId) {
          await this.killContainers([latest], pod, c, "its sandbox is gone");
          want(0);
          continue;
        }
        const failure = this.o.probes.failure(latest.id);
        if (failure !== undefined) {
          const what = failure.type === "liveness" ? "Liveness" : "Startup";
          this.o.log.info(`container failed ${failure.type} probe, will be restarted`, {
            pod: `${ref.namespace}/${ref.name}`,
            container: c.name,
            message: `${what} probe failed: ${failure.message}`,
          });
          this.o.events.pod(
            pod,
            "Normal",
            "Killing",
            `Container ${c.name} failed ${failure.type} probe, will be restarted`,
            c.name,
          );
          await this.killContainers(
            [latest],
            pod,
            c,
            `failed ${failure.type} probe`,
            undefined,
            false,
          );
          want(0);
        }
        continue;
      }
      if (latest.state === "created" && latest.sandboxId === sandboxId) {
        await this.start(
          pod,
          c,
          "app",
          latest.attempt,
          latest,
          sandboxId,
          volumes,
          facts,
          waiting,
          want,
        );
        continue;
      }
      // Exited (or left in an old sandbox).
      const exitCode = latest.state === "exited" ? latest.exitCode : 1;
      if (latest.sandboxId !== sandboxId || shouldRestart(policy, exitCode)) {
        await this.restartWithBackOff(
          pod,
          c,
          "app",
          latest,
          sandboxId,
          volumes,
          facts,
          waiting,
          want,
        );
      }
    }
    rp = await readRuntimePod(this.o.runtime, this.o.node, ref);
    this.retainProbes(pod, rp, sandboxId, podIp);
    return { runtime: rp, sandboxId, podIp, waiting, requeueAfterMs: requeue };
  }

  /** Runs probes for the running containers of the current sandbox; stops the others'. */
  private retainProbes(pod: Pod, rp: RuntimePod, sandboxId: string, podIp: string): void {
    const uid = pod.metadata?.uid ?? "";
    const keep = new Set<string>();
    for (const c of pod.spec?.containers ?? []) {
      const latest = latestContainer(rp, c.name, "app");
      if (latest?.state !== "running" || latest.sandboxId !== sandboxId) continue;
      keep.add(latest.id);
      this.o.probes.ensure({
        podUid: uid,
        containerId: latest.id,
        container: c,
        podIp,
        startedAtMs: latest.startedAtMs,
      });
    }
    this.o.probes.retain(uid, keep);
  }

  private async restartWithBackOff(
    pod: Pod,
    c: Container,
    kind: "init" | "app",
    latest: RuntimeContainer,
    sandboxId: string,
    volumes: ReadonlyMap<string, PreparedVolume>,
    facts: PodRuntimeFacts,
    waiting: Map<string, WaitingReason>,
    want: (ms: number) => void,
  ): Promise<void> {
    const ref = podRef(pod);
    const key = `${ref.uid}/${kind}/${c.name}`;
    const finished = latest.finishedAtMs || Date.now();
    const remaining = this.o.backOff.remainingMs(key, finished);
    if (remaining > 0) {
      waiting.set(containerKey(kind, c.name), {
        reason: "CrashLoopBackOff",
        message: `back-off ${goDuration(this.o.backOff.delayMs(key))} restarting failed container=${c.name} pod=${ref.name}_${ref.namespace}(${ref.uid})`,
      });
      this.o.events.pod(
        pod,
        "Warning",
        "BackOff",
        `Back-off restarting failed container ${c.name} in pod ${ref.name}_${ref.namespace}(${ref.uid})`,
        c.name,
      );
      want(remaining);
      return;
    }
    this.o.backOff.restarted(key, finished);
    await this.start(
      pod,
      c,
      kind,
      latest.attempt + 1,
      undefined,
      sandboxId,
      volumes,
      facts,
      waiting,
      want,
    );
  }

  /** Pulls the image per imagePullPolicy; undefined (and a waiting reason) when it cannot. */
  private async ensureImage(
    pod: Pod,
    c: Container,
    kind: "init" | "app",
    waiting: Map<string, WaitingReason>,
    want: (ms: number) => void,
  ): Promise<string | undefined> {
    const image = c.image;
    const policy =
      c.imagePullPolicy ||
      (/:latest$|^[^:]*$/.test(image.split("/").pop() ?? "") ? "Always" : "IfNotPresent");
    const present = async () =>
      (await this.o.runtime.image.imageStatus({ image: { image } })).image?.id;
    if (policy === "Never") {
      const id = await present();
      if (id === undefined) {
        const message = `Container image "${image}" is not present with pull policy of Never`;
        waiting.set(containerKey(kind, c.name), { reason: "ErrImageNeverPull", message });
        this.o.events.pod(pod, "Warning", "ErrImageNeverPull", message, c.name);
        want(5_000);
      }
      return id === undefined ? undefined : image;
    }
    if (policy === "IfNotPresent" && (await present()) !== undefined) {
      this.o.events.pod(
        pod,
        "Normal",
        "Pulled",
        `Container image "${image}" already present on machine`,
        c.name,
      );
      return image;
    }
    const key = `${pod.metadata?.uid ?? ""}/pull/${image}`;
    const remaining = this.o.pullBackOff.remainingMs(key, Date.now());
    if (remaining > 0) {
      waiting.set(containerKey(kind, c.name), {
        reason: "ImagePullBackOff",
        message: `Back-off pulling image "${image}"`,
      });
      this.o.events.pod(pod, "Normal", "BackOff", `Back-off pulling image "${image}"`, c.name);
      want(remaining);
      return undefined;
    }
    this.o.events.pod(pod, "Normal", "Pulling", `Pulling image "${image}"`, c.name);
    const pullStart = Date.now();
    try {
      await this.o.runtime.image.pullImage({ image: { image } });
      this.o.events.pod(
        pod,
        "Normal",
        "Pulled",
        `Successfully pulled image "${image}" in ${((Date.now() - pullStart) / 1000).toFixed(3)}s`,
        c.name,
      );
      return image;
    } catch (e) {
      this.o.events.pod(
        pod,
        "Warning",
        "Failed",
        `Failed to pull image "${image}": ${errorText(e)}`,
        c.name,
      );
      this.o.pullBackOff.restarted(key, Date.now());
      waiting.set(containerKey(kind, c.name), {
        reason: "ErrImagePull",
        message: `Failed to pull image "${image}": ${errorText(e)}`,
      });
      want(this.o.pullBackOff.remainingMs(key, Date.now()));
      return undefined;
    }
  }

  /** Creates (unless `existing` was created already) and starts one container. */
  private async start(
    pod: Pod,
    c: Container,
    kind: "init" | "app",
    attempt: number,
    existing: RuntimeContainer | undefined,
    sandboxId: string,
    volumes: ReadonlyMap<string, PreparedVolume>,
    facts: PodRuntimeFacts,
    waiting: Map<string, WaitingReason>,
    want: (ms: number) => void,
  ): Promise<void> {
    const ref = podRef(pod);
    let id = existing?.state === "created" ? existing.id : undefined;
    if (id === undefined) {
      const image = await this.ensureImage(pod, c, kind, waiting, want);
      if (image === undefined) return;
      let config: cri.ContainerConfig;
      try {
        const env = await containerEnv(pod, c, this.o.sources, facts);
        const messageFile = join(
          podDir(this.o.rootDir, ref.uid),
          "containers",
          c.name,
          `${kind}-${attempt}`,
        );
        mkdirSync(dirname(messageFile), { recursive: true });
        writeFileSync(messageFile, "");
        // Any user of the container may write its termination message.
        chmodSync(messageFile, 0o666);
        config = containerConfig({
          terminationMessageHostPath: messageFile,
          node: this.o.node,
          pod,
          container: c,
          kind,
          attempt,
          env,
          volumes,
          imageRef: image,
        });
      } catch (e) {
        if (!(e instanceof ContainerConfigError)) throw e;
        waiting.set(containerKey(kind, c.name), {
          reason: CREATE_CONTAINER_CONFIG_ERROR,
          message: e.message,
        });
        this.o.events.pod(pod, "Warning", "Failed", `Error: ${e.message}`, c.name);
        want(2_000);
        return;
      }
      try {
        id = (
          await this.o.runtime.runtime.createContainer({
            podSandboxId: sandboxId,
            config,
            sandboxConfig: { logDirectory: this.logDirectory(ref) },
          })
        ).containerId;
        this.o.events.pod(pod, "Normal", "Created", `Created container ${c.name}`, c.name);
      } catch (e) {
        waiting.set(containerKey(kind, c.name), {
          reason: "CreateContainerError",
          message: errorText(e),
        });
        this.o.events.pod(pod, "Warning", "Failed", `Error: ${errorText(e)}`, c.name);
        want(5_000);
        return;
      }
    }
    try {
      await this.o.runtime.runtime.startContainer({ containerId: id });
      this.o.onContainerStarted?.();
      this.o.events.pod(pod, "Normal", "Started", `Started container ${c.name}`, c.name);
      this.o.log.info("started container", {
        pod: `${ref.namespace}/${ref.name}`,
        container: c.name,
        attempt,
        id,
      });
    } catch (e) {
      // A container that cannot start (no such executable ...) is removed so the next
      // attempt starts clean; the back-off keeps it from spinning.
      await this.o.runtime.runtime.removeContainer({ containerId: id }).catch(() => undefined);
      this.o.backOff.restarted(`${ref.uid}/${kind}/${c.name}`, Date.now());
      waiting.set(containerKey(kind, c.name), {
        reason: "RunContainerError",
        message: errorText(e),
      });
      this.o.events.pod(pod, "Warning", "Failed", `Error: ${errorText(e)}`, c.name);
      want(this.o.backOff.delayMs(`${ref.uid}/${kind}/${c.name}`));
      return;
    }
    await this.runPostStart(pod, c, id, facts.podIp);
  }

  /**
   * The postStart hook, right after the start (the kubelet runs it before reporting the
   * container running): a failure kills the container, which is then restarted per policy.
   */
  private async runPostStart(pod: Pod, c: Container, id: string, podIp: string): Promise<void> {
    const hook = c.lifecycle?.postStart;
    if (hook === undefined) return;
    const grace = pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
    let failure: string | undefined;
    if (hook.sleep !== undefined) {
      await new Promise((r) => setTimeout(r, (hook.sleep?.seconds ?? 0) * 1000));
    } else {
      const outcome = await runHandler(
        hook,
        { runtime: this.o.runtime, containerId: id, container: c, podIp },
        grace,
      );
      if (!outcome.success) failure = outcome.message;
    }
    if (failure === undefined) return;
    this.o.events.pod(
      pod,
      "Warning",
      "FailedPostStartHook",
      `PostStartHook failed: ${failure}`,
      c.name,
    );
    await this.o.runtime.runtime
      .stopContainer({ containerId: id, timeout: BigInt(MIN_GRACE_SECONDS) })
      .catch(() => undefined);
  }

  /**
   * Kills containers gracefully, in parallel: the preStop hook, then StopContainer (SIGTERM,
   * SIGKILL after what is left of the grace period, at least MIN_GRACE_SECONDS).
   */
  async killContainers(
    containers: readonly RuntimeContainer[],
    pod: Pod | undefined,
    spec: Container | undefined,
    why: string,
    graceOverride?: number,
    announce = true,
  ): Promise<void> {
    await Promise.all(
      containers.map(async (rc) => {
        const c =
          spec ??
          [...(pod?.spec?.containers ?? []), ...(pod?.spec?.initContainers ?? [])].find(
            (x) => x.name === rc.name,
          );
        const grace =
          graceOverride ??
          pod?.metadata?.deletionGracePeriodSeconds ??
          pod?.spec?.terminationGracePeriodSeconds ??
          recordedGraceSeconds(rc, DEFAULT_GRACE_SECONDS);
        if (announce && pod !== undefined && rc.state === "running") {
          this.o.events.pod(pod, "Normal", "Killing", `Stopping container ${rc.name}`, rc.name);
        }
        const started = Date.now();
        if (rc.state === "running" && grace > 0) await this.runPreStop(rc, c, grace, pod);
        const left = Math.max(MIN_GRACE_SECONDS, Math.ceil(grace - (Date.now() - started) / 1000));
        this.o.log.info("killing container", { container: rc.name, id: rc.id, grace: left, why });
        await this.o.runtime.runtime
          .stopContainer(
            { containerId: rc.id, timeout: BigInt(left) },
            { timeoutMs: (left + 30) * 1000 },
          )
          .catch((e: unknown) =>
            this.o.log.warn("stop container failed", { id: rc.id, error: errorText(e) }),
          );
      }),
    );
  }

  private async runPreStop(
    rc: RuntimeContainer,
    c: Container | undefined,
    grace: number,
    pod: Pod | undefined,
  ): Promise<void> {
    const hook = c?.lifecycle?.preStop;
    try {
      if (hook?.sleep !== undefined) {
        await new Promise((r) => setTimeout(r, Math.min(hook.sleep?.seconds ?? 0, grace) * 1000));
        return;
      }
      const recorded = rc.annotations[POD_ANNOTATION.preStopExec];
      // The spec's hook, or the exec command recorded on the container (the pod may be gone).
      const handler: ProbeHandler | undefined =
        hook ??
        (recorded !== undefined
          ? { exec: create(ExecActionSchema, { command: JSON.parse(recorded) as string[] }) }
          : undefined);
      if (handler === undefined) return;
      if (
        handler.exec === undefined &&
        handler.httpGet === undefined &&
        handler.tcpSocket === undefined
      )
        return;
      const podIp = pod?.status?.podIp ?? "";
      const container = c ?? create(ContainerSchema, { name: rc.name });
      const outcome = await runHandler(
        handler,
        { runtime: this.o.runtime, containerId: rc.id, container, podIp },
        grace,
      );
      if (!outcome.success) {
        this.o.log.warn("preStop hook failed", {
          container: rc.name,
          id: rc.id,
          message: outcome.message,
        });
      }
    } catch (e) {
      this.o.log.warn("preStop hook failed", {
        container: rc.name,
        id: rc.id,
        error: errorText(e),
      });
    }
  }

  /** Stops every container and sandbox of a pod (deletion, or a terminal pod). */
  async terminate(
    ref: { name: string; namespace: string; uid: string },
    pod: Pod | undefined,
    graceOverride?: number,
  ): Promise<RuntimePod> {
    const rp = await readRuntimePod(this.o.runtime, this.o.node, ref);
    const running = rp.containers.filter((c) => c.state === "running" || c.state === "created");
    await this.killContainers(running, pod, undefined, "pod is terminating", graceOverride);
    for (const s of rp.sandboxes.filter((s) => s.ready)) {
      await this.o.runtime.runtime
        .stopPodSandbox({ podSandboxId: s.id })
        .catch((e: unknown) =>
          this.o.log.warn("stop sandbox failed", { id: s.id, error: errorText(e) }),
        );
    }
    this.o.probes.retain(ref.uid, new Set());
    return readRuntimePod(this.o.runtime, this.o.node, ref);
  }

  /** Removes every container and sandbox of a pod that is gone, and its volumes. */
  async remove(ref: { name: string; namespace: string; uid: string }): Promise<void> {
    const rp = await readRuntimePod(this.o.runtime, this.o.node, ref);
    for (const c of rp.containers) {
      await this.o.runtime.runtime.removeContainer({ containerId: c.id }).catch(() => undefined);
    }
    for (const s of rp.sandboxes) {
      await this.o.runtime.runtime.removePodSandbox({ podSandboxId: s.id }).catch(() => undefined);
    }
    await this.o.volumes.cleanup(ref.uid);
    rmSync(this.logDirectory(ref), { recursive: true, force: true });
    this.o.backOff.forget(`${ref.uid}/`);
    this.o.pullBackOff.forget(`${ref.uid}/`);
  }
}
