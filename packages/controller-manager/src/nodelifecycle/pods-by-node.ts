// The pods-by-node index shared by the controllers that act on a node's pods. One function
// object for every user: a shared informer refuses two functions under one index name.

import type { Pod } from "@tug/api";
import { fieldIndexFunc, type IndexFunc, type SharedIndexInformer } from "@tug/client";

/** Index name: pods filed under spec.nodeName (unbound pods are not indexed). */
export const POD_NODE_NAME_INDEX = "spec.nodeName";

export const podNodeNameIndexFunc: IndexFunc<Pod> = fieldIndexFunc(
  (pod: Pod) => pod.spec?.nodeName,
);

/** Adds the index to the pods informer unless a controller before this one did. */
export function ensurePodNodeNameIndex(pods: SharedIndexInformer<Pod>): void {
  const current = pods.getIndexer().getIndexers()[POD_NODE_NAME_INDEX];
  if (current === undefined) pods.addIndexers({ [POD_NODE_NAME_INDEX]: podNodeNameIndexFunc });
  else if (current !== podNodeNameIndexFunc) {
    throw new Error(
      `pods informer: index ${JSON.stringify(POD_NODE_NAME_INDEX)} is registered with another function; use podNodeNameIndexFunc`,
    );
  }
}
