// The CLI config entries `tug up` writes so that `tug get nodes` reaches the local cluster:
// cluster "tug-local" at the local API server, user "tug-local" (no token: the local API server
// serves a request without credentials as system:anonymous, --anonymous-auth's default), context
// "tug-local" joining them, made current. Other entries of the user's config are kept as they are.

import type { TugConfig } from "../config/tug-config.js";

export const LOCAL_NAME = "tug-local";

/** `config` with the tug-local cluster, user and context set and current (a new object). */
export function withLocalCluster(config: TugConfig, apiServer: string): TugConfig {
  const others = <T extends { name: string }>(list: readonly T[]) =>
    list.filter((entry) => entry.name !== LOCAL_NAME);
  return {
    ...config,
    clusters: [...others(config.clusters), { name: LOCAL_NAME, cluster: { server: apiServer } }],
    users: [...others(config.users), { name: LOCAL_NAME, user: {} }],
    contexts: [
      ...others(config.contexts),
      { name: LOCAL_NAME, context: { cluster: LOCAL_NAME, user: LOCAL_NAME } },
    ],
    "current-context": LOCAL_NAME,
  };
}
