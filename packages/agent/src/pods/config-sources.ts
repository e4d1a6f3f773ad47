// Where a pod's ConfigMaps, Secrets and claims are read from: the API server, asked at the
// moment a container is made or a volume refreshed (the kubelet's "Get" change detection
// strategy), so a pod never starts with a value older than its creation.

import {
  type ConfigMap,
  ConfigMapSchema,
  type PersistentVolume,
  type PersistentVolumeClaim,
  PersistentVolumeClaimSchema,
  PersistentVolumeSchema,
  type Secret,
  SecretSchema,
} from "@tug/api";
import { type ApiClient, isApiError } from "@tug/client";

/** Reads the objects a pod refers to; undefined when one does not exist. */
export interface ConfigSources {
  configMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  secret(namespace: string, name: string): Promise<Secret | undefined>;
  persistentVolumeClaim(
    namespace: string,
    name: string,
  ): Promise<PersistentVolumeClaim | undefined>;
  persistentVolume(name: string): Promise<PersistentVolume | undefined>;
}

async function orUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    if (isApiError(e) && e.reason === "NotFound") return undefined;
    throw e;
  }
}

/** ConfigSources over the API server. */
export function apiConfigSources(client: ApiClient): ConfigSources {
  return {
    configMap: (namespace, name) => orUndefined(client.get(ConfigMapSchema, name, { namespace })),
    secret: (namespace, name) => orUndefined(client.get(SecretSchema, name, { namespace })),
    persistentVolumeClaim: (namespace, name) =>
      orUndefined(client.get(PersistentVolumeClaimSchema, name, { namespace })),
    persistentVolume: (name) => orUndefined(client.get(PersistentVolumeSchema, name)),
  };
}
