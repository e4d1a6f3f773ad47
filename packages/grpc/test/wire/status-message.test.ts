import { describe, expect, it } from "vitest";
import { decodeStatusMessage, encodeStatusMessage } from "../../src/index.js";

describe("grpc-message encoding", () => {
  it("leaves printable ASCII other than % as it is", () => {
    const text = "etcdserver: mvcc: required revision has been compacted (rev 12) ~!";
    expect(encodeStatusMessage(text)).toBe(text);
  });

  it("percent-encodes %, control characters and UTF-8 octets in upper-case hex", () => {
    expect(encodeStatusMessage("50%")).toBe("50%25");
    expect(encodeStatusMessage("a\nb\tc")).toBe("a%0Ab%09c");
    expect(encodeStatusMessage("ünïcode ✓")).toBe("%C3%BCn%C3%AFcode %E2%9C%93");
    expect(encodeStatusMessage("emoji 😀")).toBe("emoji %F0%9F%98%80");
  });

  it("decodes what it encodes", () => {
    for (const text of ["", "plain", "50% off", "line\r\nbreak", "ünïcode ✓ 😀", "%%%"]) {
      expect(decodeStatusMessage(encodeStatusMessage(text))).toBe(text);
    }
  });

  it("keeps malformed escapes as they came, and accepts lower-case hex", () => {
    expect(decodeStatusMessage("100%")).toBe("100%");
    expect(decodeStatusMessage("%zz and %4")).toBe("%zz and %4");
    expect(decodeStatusMessage("%c3%bc")).toBe("ü");
  });
});
