// Test objects shaped like the generated kinds: ObjectMeta plus a spec.

export interface TestPod {
  metadata?: {
    name: string;
    namespace: string;
    resourceVersion: string;
    uid: string;
    labels: { [key: string]: string };
  };
  spec: { nodeName: string };
}

export function pod(
  namespace: string,
  name: string,
  opts: { rv?: string; nodeName?: string; labels?: Record<string, string> } = {},
): TestPod {
  return {
    metadata: {
      name,
      namespace,
      resourceVersion: opts.rv ?? "1",
      uid: `uid-${namespace}-${name}`,
      labels: { ...opts.labels },
    },
    spec: { nodeName: opts.nodeName ?? "" },
  };
}
