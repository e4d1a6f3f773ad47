// The compacted error, carrying the compact revision: a watch that asks for history the
// keyspace no longer holds is answered with compact_revision set, so that its client can
// relist and watch again from there (client-go's reflector does exactly that).

import { StoreError } from "../errors.js";

export class CompactedError extends StoreError {
  /** The keyspace's compact revision: the oldest revision it still serves. */
  readonly compactRevision: number;

  constructor(compactRevision: number) {
    const e = StoreError.etcd("compacted");
    super(e.code, e.message);
    this.compactRevision = compactRevision;
  }
}
