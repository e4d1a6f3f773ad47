// Lists served from the watch cache hand out the same cached objects again and again; each is
// packed into its Any (protobuf-encoded with apiVersion and kind) once and the bytes reused by
// every later list, as kube-apiserver's cachingObject keeps an object's serialization.

import type { Any } from "@bufbuild/protobuf/wkt";
import type { KindInfo } from "@tug/api";
import type { ApiObject } from "../registry/api-object.js";

export class PackedObjects {
  /**
   * Keyed by the cached object's identity plus its resourceVersion: the watch cache may give a
   * kept previous state the resourceVersion of its deletion.
   */
  private readonly byObject = new WeakMap<ApiObject, { rv: string; any: Any }>();

  constructor(private readonly pack: (kind: KindInfo, obj: ApiObject) => Any) {}

  /** `obj` packed, made once per object state. `obj` must not be mutated afterwards. */
  packed(kind: KindInfo, obj: ApiObject): Any {
    const rv = obj.metadata?.resourceVersion ?? "";
    const known = this.byObject.get(obj);
    if (known !== undefined && known.rv === rv) return known.any;
    const any = this.pack(kind, obj);
    this.byObject.set(obj, { rv, any });
    return any;
  }
}
