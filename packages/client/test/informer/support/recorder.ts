// A handler that writes each call as one line, for asserting order.
import { isDeletedFinalStateUnknown } from "../../../src/cache/tombstone.js";
import type { ResourceEventHandler } from "../../../src/informer/shared-informer.js";
import type { TestPod } from "./objects.js";

function id(obj: TestPod): string {
  const m = obj.metadata!;
  return `${m.namespace === "" ? "" : `${m.namespace}/`}${m.name}@${m.resourceVersion}`;
}

export function recorder(): { log: string[]; handler: ResourceEventHandler<TestPod> } {
  const log: string[] = [];
  return {
    log,
    handler: {
      onAdd: (obj, initial) => log.push(`add ${id(obj)}${initial ? " (initial)" : ""}`),
      onUpdate: (oldObj, newObj) =>
        log.push(
          oldObj === newObj ? `resync ${id(newObj)}` : `update ${id(oldObj)} -> ${id(newObj)}`,
        ),
      onDelete: (obj) =>
        log.push(
          isDeletedFinalStateUnknown(obj)
            ? `tombstone ${obj.key} last ${id(obj.obj)}`
            : `delete ${id(obj)}`,
        ),
    },
  };
}
