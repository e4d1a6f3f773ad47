// A container's environment, as the kubelet's makeEnvironmentVariables builds it: envFrom
// sources first (ConfigMaps and Secrets, every valid key, prefixed), then env entries in order,
// each value with $(VAR) references to earlier variables expanded ($$ is a literal $).
// A missing ConfigMap, Secret or key that is not optional is a CreateContainerConfigError with
// the kubelet's message (https://kubernetes.io/docs/tasks/inject-data-application/).

import type { Container, Pod } from "@tug/api";
import { isEnvVarName } from "@tug/api";
import type { ConfigSources } from "./config-sources.js";
import { ContainerConfigError } from "./container-config-error.js";
import { type PodRuntimeFacts, podFieldValue, resourceFieldValue } from "./downward-api.js";

/** One environment variable, in order. */
export interface EnvEntry {
  name: string;
  value: string;
}

/** Expands $(NAME) from `vars`; $$ stands for $; unknown references stay as written. */
export function expandEnvReferences(value: string, vars: ReadonlyMap<string, string>): string {
  return value.replace(/\$\$|\$\(([^)]*)\)/g, (match, name: string | undefined) => {
    if (match === "$$") return "$";
    const v = name === undefined ? undefined : vars.get(name);
    return v ?? match;
  });
}

function secretText(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("utf8");
}

/** The container's environment, or a ContainerConfigError naming what is missing. */
export async function containerEnv(
  pod: Pod,
  container: Container,
  sources: ConfigSources,
  facts: PodRuntimeFacts,
): Promise<EnvEntry[]> {
  const namespace = pod.metadata?.namespace ?? "";
  const vars = new Map<string, string>();
  for (const from of container.envFrom) {
    if (from.configMapRef !== undefined) {
      const name = from.configMapRef.name;
      const cm = await sources.configMap(namespace, name);
      if (cm === undefined) {
        if (from.configMapRef.optional === true) continue;
        throw new ContainerConfigError(`configmap "${name}" not found`);
      }
      for (const [k, v] of Object.entries(cm.data)) {
        const key = from.prefix + k;
        if (isEnvVarName(key).length === 0) vars.set(key, v);
      }
    }
    if (from.secretRef !== undefined) {
      const name = from.secretRef.name;
      const secret = await sources.secret(namespace, name);
      if (secret === undefined) {
        if (from.secretRef.optional === true) continue;
        throw new ContainerConfigError(`secret "${name}" not found`);
      }
      for (const [k, v] of Object.entries(secret.data)) {
        const key = from.prefix + k;
        if (isEnvVarName(key).length === 0) vars.set(key, secretText(v));
      }
    }
  }
  for (const env of container.env) {
    const source = env.valueFrom;
    if (source === undefined) {
      vars.set(env.name, expandEnvReferences(env.value, vars));
      continue;
    }
    if (source.fieldRef !== undefined) {
      vars.set(env.name, podFieldValue(pod, source.fieldRef.fieldPath, facts));
    } else if (source.resourceFieldRef !== undefined) {
      const ref = source.resourceFieldRef;
      const target =
        ref.containerName === ""
          ? container
          : [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find(
              (c) => c.name === ref.containerName,
            );
      if (target === undefined) {
        throw new ContainerConfigError(
          `env ${env.name}: resourceFieldRef.containerName "${ref.containerName}" names no container of the pod`,
        );
      }
      vars.set(env.name, resourceFieldValue(target, ref.resource, ref.divisor, facts));
    } else if (source.configMapKeyRef !== undefined) {
      const ref = source.configMapKeyRef;
      const cm = await sources.configMap(namespace, ref.name);
      if (cm === undefined) {
        if (ref.optional === true) continue;
        throw new ContainerConfigError(`configmap "${ref.name}" not found`);
      }
      const value = cm.data[ref.key] ?? binaryText(cm.binaryData[ref.key]);
      if (value === undefined) {
        if (ref.optional === true) continue;
        throw new ContainerConfigError(
          `couldn't find key ${ref.key} in ConfigMap ${namespace}/${ref.name}`,
        );
      }
      vars.set(env.name, value);
    } else if (source.secretKeyRef !== undefined) {
      const ref = source.secretKeyRef;
      const secret = await sources.secret(namespace, ref.name);
      if (secret === undefined) {
        if (ref.optional === true) continue;
        throw new ContainerConfigError(`secret "${ref.name}" not found`);
      }
      const bytes = secret.data[ref.key];
      if (bytes === undefined) {
        if (ref.optional === true) continue;
        throw new ContainerConfigError(
          `couldn't find key ${ref.key} in Secret ${namespace}/${ref.name}`,
        );
      }
      vars.set(env.name, secretText(bytes));
    }
  }
  return [...vars].map(([name, value]) => ({ name, value }));
}

function binaryText(bytes: Uint8Array | undefined): string | undefined {
  return bytes === undefined ? undefined : Buffer.from(bytes).toString("utf8");
}
