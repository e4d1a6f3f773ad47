// The least an API object must carry for the cache: the ObjectMeta fields that key, index and
// version it. The generated protobuf-es kinds (Pod, Node, Lease, ...) satisfy this shape, so the
// cache, reflector and informers work for every kind without knowing any of them.

/**
 * The ObjectMeta fields the cache reads (Kubernetes ObjectMeta: metadata.name, .namespace,
 * .resourceVersion, .uid, .labels). `namespace` is "" for cluster-scoped objects.
 * https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/object-meta/
 */
export interface CacheObjectMeta {
  readonly name: string;
  readonly namespace: string;
  readonly resourceVersion: string;
  readonly uid: string;
  readonly labels: { readonly [key: string]: string };
}

/** Any API object: something with `metadata`. */
export interface CacheObject {
  readonly metadata?: CacheObjectMeta | undefined;
}
