import { describe, expect, it } from "vitest";
import {
  encodeMessage,
  GrpcError,
  isSingleMessage,
  MessageDecoder,
  Status,
} from "../../src/index.js";

function decodeAll(chunks: Buffer[], max = -1): { message: string; compressed: boolean }[] {
  const out: { message: string; compressed: boolean }[] = [];
  const decoder = new MessageDecoder(max, (m, compressed) =>
    out.push({ message: m.toString(), compressed }),
  );
  for (const c of chunks) decoder.push(c);
  return out;
}

describe("message framing", () => {
  it("prefixes a message with flag 0 and its big-endian length", () => {
    expect([...encodeMessage(Buffer.from("abc"))]).toEqual([0, 0, 0, 0, 3, 97, 98, 99]);
    expect([...encodeMessage(new Uint8Array(0))]).toEqual([0, 0, 0, 0, 0]);
  });

  it("tells a chunk that holds exactly one whole message", () => {
    const one = encodeMessage(Buffer.from("abc"));
    expect(isSingleMessage(one)).toBe(true);
    expect(isSingleMessage(encodeMessage(new Uint8Array(0)))).toBe(true);
    expect(isSingleMessage(one.subarray(0, 7))).toBe(false); // a message cut short
    expect(isSingleMessage(one.subarray(0, 4))).toBe(false); // not even the prefix
    expect(isSingleMessage(Buffer.concat([one, one]))).toBe(false); // two messages
  });

  it("decodes several messages packed into one chunk, empty ones included", () => {
    const chunk = Buffer.concat(["one", "", "three"].map((s) => encodeMessage(Buffer.from(s))));
    expect(decodeAll([chunk]).map((m) => m.message)).toEqual(["one", "", "three"]);
  });

  it("decodes the same messages however the stream is cut, down to one byte per chunk", () => {
    const messages = ["alpha", "", "b".repeat(300), "gamma"];
    const stream = Buffer.concat(messages.map((s) => encodeMessage(Buffer.from(s))));
    for (const size of [1, 2, 3, 4, 5, 6, 7, 11, 64, 299, 300, 1000]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < stream.length; i += size) chunks.push(stream.subarray(i, i + size));
      expect(
        decodeAll(chunks).map((m) => m.message),
        `chunks of ${size}`,
      ).toEqual(messages);
    }
  });

  it("reports the compressed flag", () => {
    const frame = encodeMessage(Buffer.from("z"));
    frame[0] = 1;
    expect(decodeAll([frame])).toEqual([{ message: "z", compressed: true }]);
  });

  it("holds a partial message until it completes, and says when it is between messages", () => {
    const seen: string[] = [];
    const decoder = new MessageDecoder(-1, (m) => seen.push(m.toString()));
    const frame = encodeMessage(Buffer.from("hello"));
    decoder.push(frame.subarray(0, 7));
    expect(seen).toEqual([]);
    expect(decoder.idle).toBe(false);
    decoder.push(frame.subarray(7));
    expect(seen).toEqual(["hello"]);
    expect(decoder.idle).toBe(true);
  });

  it("refuses a length over the limit with grpc-js's text, before the body arrives", () => {
    const decoder = new MessageDecoder(10, () => undefined);
    decoder.push(encodeMessage(Buffer.alloc(10))); // exactly the limit is fine
    const big = encodeMessage(Buffer.alloc(11));
    let error: unknown;
    try {
      decoder.push(big.subarray(0, 5));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GrpcError);
    expect((error as GrpcError).code).toBe(Status.RESOURCE_EXHAUSTED);
    expect((error as GrpcError).details).toBe("Received message larger than max (11 vs. 10)");
  });
});
