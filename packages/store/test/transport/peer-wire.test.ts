// The peer wire's uint64 fields: read as JavaScript numbers while they fit in 53 bits (member
// ids, pings, sizes), refused with the field's name when they do not.

import { describe, expect, it } from "vitest";
import { StoreError } from "../../src/errors.js";
import {
  decodeSnapshotChunk,
  decodeStreamRequest,
  encodeSnapshotChunk,
  encodeStreamRequest,
} from "../../src/transport/peer-wire.js";

const roundTrip = (ping: number) =>
  decodeStreamRequest(encodeStreamRequest({ messages: [], ping })).ping;

describe("peer wire uint64 fields", () => {
  it("reads values up to 2^53 - 1 exactly, across the 32-bit word boundary", () => {
    for (const v of [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 7, 2 ** 40 + 3, 2 ** 53 - 1]) {
      expect(roundTrip(v)).toBe(v);
    }
    const hello = { clusterId: 0xffff_ffff_ffff_fff1n, from: 2 ** 33 + 1, to: 2 ** 52 };
    const chunk = decodeSnapshotChunk(
      encodeSnapshotChunk({
        hello,
        message: new Uint8Array(0),
        dataSize: 5_000_000_000,
        dataCrc32: 0xffff_ffff,
        data: new Uint8Array(0),
      }),
    );
    expect(chunk.hello).toEqual(hello);
    expect([chunk.dataSize, chunk.dataCrc32]).toEqual([5_000_000_000, 0xffff_ffff]);
  });

  it("refuses a value over 53 bits, naming the field", () => {
    let thrown: unknown;
    try {
      roundTrip(2 ** 53);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(StoreError);
    expect((thrown as StoreError).code).toBe("INVALID_ARGUMENT");
    expect((thrown as StoreError).message).toBe(
      "peer wire: StreamRequest.ping 9007199254740992 does not fit in 53 bits",
    );
  });
});
