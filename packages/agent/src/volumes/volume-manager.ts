// Prepares a pod's volumes on the node before its containers start, and tears them down when
// the pod is gone (the kubelet's volume manager, synchronously per pod sync). Layout, as the
// kubelet's: <root-dir>/pods/<uid>/volumes/<plugin>/<volume>, plugin one of
// kubernetes.io~empty-dir, kubernetes.io~configmap, kubernetes.io~secret,
// kubernetes.io~downward-api. hostPath and local PersistentVolumes are used in place.
// https://kubernetes.io/docs/concepts/storage/volumes/

import { execFile } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { type KeyToPath, type Pod, Quantity, type Volume } from "@tug/api";
import type { ConfigSources } from "../pods/config-sources.js";
import { type PodRuntimeFacts, podFieldValue, resourceFieldValue } from "../pods/downward-api.js";
import { type ProjectedFile, writeAtomically } from "./atomic-writer.js";

const run = promisify(execFile);

/** The default mode of projected files (the API's defaultMode default, 0644). */
export const DEFAULT_FILE_MODE = 0o644;

/** A volume ready on the node: the host path to bind-mount, and whether it is read-only. */
export interface PreparedVolume {
  hostPath: string;
  readOnly: boolean;
}

/** A volume that cannot be set up yet (missing object, unbound claim, mount failure). */
export class VolumeError extends Error {
  override readonly name = "VolumeError";
}

/** The directory of a pod under the agent's root dir. */
export function podDir(rootDir: string, uid: string): string {
  return join(rootDir, "pods", uid);
}

export class VolumeManager {
  constructor(
    private readonly rootDir: string,
    private readonly sources: ConfigSources,
  ) {}

  /**
   * Sets up (or refreshes: configMap, secret and downward API contents are rewritten
   * atomically when they changed) every volume of `pod`; returns them by name.
   */
  async prepare(pod: Pod, facts: PodRuntimeFacts): Promise<Map<string, PreparedVolume>> {
    const uid = pod.metadata?.uid ?? "";
    const out = new Map<string, PreparedVolume>();
    for (const volume of pod.spec?.volumes ?? []) {
      out.set(volume.name, await this.prepareOne(pod, uid, volume, facts));
    }
    return out;
  }

  private dir(uid: string, plugin: string, name: string): string {
    return join(podDir(this.rootDir, uid), "volumes", `kubernetes.io~${plugin}`, name);
  }

  private async prepareOne(
    pod: Pod,
    uid: string,
    volume: Volume,
    facts: PodRuntimeFacts,
  ): Promise<PreparedVolume> {
    const namespace = pod.metadata?.namespace ?? "";
    if (volume.emptyDir !== undefined) {
      const dir = this.dir(uid, "empty-dir", volume.name);
      mkdirSync(dir, { recursive: true, mode: 0o777 });
      if (volume.emptyDir.medium === "Memory") await mountTmpfs(dir, volume.emptyDir.sizeLimit);
      return { hostPath: dir, readOnly: false };
    }
    if (volume.hostPath !== undefined) {
      return {
        hostPath: prepareHostPath(volume.name, volume.hostPath.path, volume.hostPath.type ?? ""),
        readOnly: false,
      };
    }
    if (volume.configMap !== undefined) {
      const src = volume.configMap;
      const dir = this.dir(uid, "configmap", volume.name);
      const cm = await this.sources.configMap(namespace, src.name);
      if (cm === undefined && src.optional !== true) {
        throw new VolumeError(`configmap "${src.name}" not found`);
      }
      const data = new Map<string, Buffer>();
      for (const [k, v] of Object.entries(cm?.data ?? {})) data.set(k, Buffer.from(v, "utf8"));
      for (const [k, v] of Object.entries(cm?.binaryData ?? {})) data.set(k, Buffer.from(v));
      writeAtomically(
        dir,
        projectKeys(
          data,
          src.items,
          src.defaultMode,
          `ConfigMap ${namespace}/${src.name}`,
          src.optional === true,
        ),
      );
      return { hostPath: dir, readOnly: true };
    }
    if (volume.secret !== undefined) {
      const src = volume.secret;
      const dir = this.dir(uid, "secret", volume.name);
      const secret = await this.sources.secret(namespace, src.secretName);
      if (secret === undefined && src.optional !== true) {
        throw new VolumeError(`secret "${src.secretName}" not found`);
      }
      const data = new Map<string, Buffer>();
      for (const [k, v] of Object.entries(secret?.data ?? {})) data.set(k, Buffer.from(v));
      writeAtomically(
        dir,
        projectKeys(
          data,
          src.items,
          src.defaultMode,
          `Secret ${namespace}/${src.secretName}`,
          src.optional === true,
        ),
      );
      return { hostPath: dir, readOnly: true };
    }
    if (volume.downwardApi !== undefined) {
      const dir = this.dir(uid, "downward-api", volume.name);
      const files: ProjectedFile[] = volume.downwardApi.items.map((item) => {
        let value: string;
        if (item.fieldRef !== undefined) value = podFieldValue(pod, item.fieldRef.fieldPath, facts);
        else if (item.resourceFieldRef !== undefined) {
          const ref = item.resourceFieldRef;
          const c = (pod.spec?.containers ?? []).find((x) => x.name === ref.containerName);
          if (c === undefined) {
            throw new VolumeError(
              `downwardAPI item ${item.path}: resourceFieldRef.containerName "${ref.containerName}" names no container`,
            );
          }
          value = resourceFieldValue(c, ref.resource, ref.divisor, facts);
        } else {
          throw new VolumeError(`downwardAPI item ${item.path}: set fieldRef or resourceFieldRef`);
        }
        return {
          path: item.path,
          content: Buffer.from(value, "utf8"),
          mode: item.mode ?? volume.downwardApi?.defaultMode ?? DEFAULT_FILE_MODE,
        };
      });
      writeAtomically(dir, files);
      return { hostPath: dir, readOnly: true };
    }
    if (volume.persistentVolumeClaim !== undefined) {
      const claimName = volume.persistentVolumeClaim.claimName;
      const pvc = await this.sources.persistentVolumeClaim(namespace, claimName);
      if (pvc === undefined) {
        throw new VolumeError(`persistentvolumeclaim "${claimName}" not found`);
      }
      const pvName = pvc.spec?.volumeName ?? "";
      if (pvName === "" || (pvc.status?.phase ?? "") !== "Bound") {
        throw new VolumeError(
          `persistentvolumeclaim "${claimName}" is not bound (phase "${pvc.status?.phase ?? ""}"); wait for the PV controller to bind it`,
        );
      }
      const pv = await this.sources.persistentVolume(pvName);
      const path = pv?.spec?.local?.path ?? pv?.spec?.hostPath?.path ?? "";
      if (pv === undefined || path === "") {
        throw new VolumeError(
          `persistentvolume "${pvName}" of claim "${claimName}" has no local or hostPath path; only local volumes can be mounted by tug-agent`,
        );
      }
      if (pv.spec?.hostPath !== undefined) mkdirSync(path, { recursive: true });
      if (!existsSync(path)) {
        throw new VolumeError(
          `local volume path ${path} of persistentvolume "${pvName}" does not exist on this node`,
        );
      }
      return { hostPath: path, readOnly: volume.persistentVolumeClaim.readOnly };
    }
    throw new VolumeError(
      `volume "${volume.name}": unsupported volume type; tug-agent supports emptyDir, hostPath, configMap, secret, downwardAPI and persistentVolumeClaim`,
    );
  }

  /** Unmounts and removes everything the agent made for pod `uid`. */
  async cleanup(uid: string): Promise<void> {
    const dir = podDir(this.rootDir, uid);
    for (const mount of mountsUnder(dir)) {
      await run("umount", [mount]).catch(() => run("umount", ["-l", mount]));
    }
    rmSync(dir, { recursive: true, force: true });
  }

  /** The uids of the pod directories present (for orphan cleanup). */
  podUidsOnDisk(): string[] {
    try {
      return readdirSync(join(this.rootDir, "pods"));
    } catch {
      return [];
    }
  }
}

/** The files of a configMap/secret volume: every key, or only `items` (key → path, mode). */
function projectKeys(
  data: ReadonlyMap<string, Buffer>,
  items: readonly KeyToPath[],
  defaultMode: number | undefined,
  what: string,
  optional: boolean,
): ProjectedFile[] {
  const mode = defaultMode ?? DEFAULT_FILE_MODE;
  if (items.length === 0) {
    return [...data].map(([key, content]) => ({ path: key, content, mode }));
  }
  const out: ProjectedFile[] = [];
  for (const item of items) {
    const content = data.get(item.key);
    if (content === undefined) {
      if (optional) continue;
      throw new VolumeError(`couldn't find key ${item.key} in ${what}`);
    }
    out.push({ path: item.path, content, mode: item.mode ?? mode });
  }
  return out;
}

/** Checks (and for the *OrCreate types, creates) a hostPath volume, per its `type`. */
function prepareHostPath(name: string, path: string, type: string): string {
  const kind = (): "dir" | "file" | "other" | "missing" => {
    try {
      const st = statSync(path);
      return st.isDirectory() ? "dir" : st.isFile() ? "file" : "other";
    } catch {
      return "missing";
    }
  };
  switch (type) {
    case "DirectoryOrCreate":
      if (kind() === "missing") mkdirSync(path, { recursive: true, mode: 0o755 });
      break;
    case "FileOrCreate":
      if (kind() === "missing") writeFileSync(path, "", { mode: 0o644 });
      break;
    case "Directory":
      if (kind() !== "dir")
        throw new VolumeError(
          `hostPath type check failed: ${path} is not a directory (volume "${name}")`,
        );
      break;
    case "File":
      if (kind() !== "file")
        throw new VolumeError(
          `hostPath type check failed: ${path} is not a file (volume "${name}")`,
        );
      break;
    default:
      break;
  }
  return path;
}

/** Mounts a tmpfs on `dir` (emptyDir medium Memory) unless one is there already. */
async function mountTmpfs(dir: string, sizeLimit: string | undefined): Promise<void> {
  if (mountsUnder(dir).includes(dir)) return;
  const options = ["-t", "tmpfs"];
  if (sizeLimit !== undefined && sizeLimit !== "") {
    options.push("-o", `size=${Quantity.parse(sizeLimit).value()}`);
  }
  try {
    await run("mount", [...options, "tmpfs", dir]);
  } catch (e) {
    throw new VolumeError(
      `cannot mount a tmpfs for emptyDir medium Memory at ${dir}: ${e instanceof Error ? e.message : String(e)}; run tug-agent as root (CAP_SYS_ADMIN)`,
    );
  }
}

/** Mount points at or below `dir`, deepest first (from /proc/self/mountinfo). */
function mountsUnder(dir: string): string[] {
  let text: string;
  try {
    text = readFileSync("/proc/self/mountinfo", "utf8");
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const mountPoint = line.split(" ")[4];
    if (mountPoint === undefined) continue;
    const decoded = mountPoint.replace(/\\040/g, " ");
    if (decoded === dir || decoded.startsWith(`${dir}/`)) out.push(decoded);
  }
  return out.sort((a, b) => b.length - a.length);
}
