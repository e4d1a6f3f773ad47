// The error of a container that cannot be configured (a missing ConfigMap, Secret or key):
// the kubelet shows it as the waiting reason CreateContainerConfigError and retries each sync.

/** The kubelet's waiting reason for a container whose config cannot be generated. */
export const CREATE_CONTAINER_CONFIG_ERROR = "CreateContainerConfigError";

export class ContainerConfigError extends Error {
  override readonly name = "ContainerConfigError";
  readonly reason = CREATE_CONTAINER_CONFIG_ERROR;
}
