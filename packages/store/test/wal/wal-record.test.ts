import { describe, expect, it } from "vitest";
import {
  alignedRecordSize,
  decodeMetadata,
  decodeRecordAt,
  decodeSegmentHeader,
  decodeSnapshotMarker,
  encodeMetadata,
  encodeRecord,
  encodeRecords,
  encodeSegmentHeader,
  encodeSnapshotMarker,
  findValidRecordAfter,
  RECORD_ALIGN,
  RECORD_HEADER_BYTES,
  RecordType,
} from "../../src/wal/wal-record.js";

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

describe("WAL record framing", () => {
  it("round-trips payloads of every length across the alignment, padded to 8 bytes", () => {
    for (let n = 0; n <= 40; n++) {
      const payload = bytes(n, n + 1);
      const rec = encodeRecord(RecordType.entry, payload);
      expect(rec.length % RECORD_ALIGN).toBe(0);
      expect(rec.length).toBe(alignedRecordSize(n));
      expect(rec.length - RECORD_HEADER_BYTES - n).toBeLessThan(RECORD_ALIGN);
      const r = decodeRecordAt(rec, 0);
      if (!r.ok) throw new Error(r.failure.detail);
      expect(r.record.type).toBe(RecordType.entry);
      expect(Buffer.from(r.record.payload).equals(Buffer.from(payload))).toBe(true);
      expect(r.next).toBe(rec.length);
    }
  });

  it("frames a batch in one buffer with the bytes of each record framed alone, padding zeroed", () => {
    const types = [RecordType.entry, RecordType.entry, RecordType.hardState, RecordType.entry];
    const payloads = [bytes(3, 1), bytes(16, 2), bytes(0, 3), bytes(29, 4)];
    // Reuse memory that held non-zero bytes, so that unzeroed padding would show.
    Buffer.allocUnsafe(4096).fill(0xff);
    const batch = encodeRecords(types, payloads);
    const alone = Buffer.concat(payloads.map((p, i) => encodeRecord(types[i] as RecordType, p)));
    expect(batch.equals(alone)).toBe(true);
    let offset = 0;
    for (let i = 0; i < payloads.length; i++) {
      const r = decodeRecordAt(batch, offset);
      if (!r.ok) throw new Error(r.failure.detail);
      expect(r.record.type).toBe(types[i]);
      expect(Buffer.from(r.record.payload).equals(Buffer.from(payloads[i] as Uint8Array))).toBe(
        true,
      );
      const end = offset + alignedRecordSize((payloads[i] as Uint8Array).length);
      expect([
        ...batch.subarray(offset + RECORD_HEADER_BYTES + r.record.payload.length, end),
      ]).toEqual(new Array(end - offset - RECORD_HEADER_BYTES - r.record.payload.length).fill(0));
      offset = r.next;
    }
    expect(offset).toBe(batch.length);
    expect(encodeRecords([], []).length).toBe(0);
  });

  it("reads records back to back at their offsets", () => {
    const a = encodeRecord(RecordType.hardState, bytes(5, 1));
    const b = encodeRecord(RecordType.entry, bytes(17, 2));
    const buf = Buffer.concat([a, b]);
    const r1 = decodeRecordAt(buf, 0);
    if (!r1.ok) throw new Error(r1.failure.detail);
    const r2 = decodeRecordAt(buf, r1.next);
    if (!r2.ok) throw new Error(r2.failure.detail);
    expect(r2.record.offset).toBe(a.length);
    expect(r2.record.type).toBe(RecordType.entry);
    expect(r2.next).toBe(buf.length);
  });

  it("detects a CRC mismatch from a flip of any bit of header, payload or padding", () => {
    const rec = encodeRecord(RecordType.entry, bytes(13, 7));
    for (let byte = 0; byte < rec.length; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = Buffer.from(rec);
        bad[byte] = (bad[byte] as number) ^ (1 << bit);
        const r = decodeRecordAt(bad, 0);
        expect(r.ok, `flip of byte ${byte} bit ${bit} went unnoticed`).toBe(false);
      }
    }
    const payloadFlip = Buffer.from(rec);
    payloadFlip[RECORD_HEADER_BYTES + 3] = (payloadFlip[RECORD_HEADER_BYTES + 3] as number) ^ 0x10;
    const r = decodeRecordAt(payloadFlip, 0);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.failure.kind).toBe("invalid");
      expect(r.failure.detail).toMatch(/CRC mismatch \(entry record\)/);
    }
  });

  it("reports a record cut short at every length as short", () => {
    const rec = encodeRecord(RecordType.entry, bytes(21, 3));
    for (let n = 0; n < rec.length; n++) {
      const r = decodeRecordAt(rec.subarray(0, n), 0);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.failure.kind).toBe("short");
    }
  });

  it("never accepts zeros, the tail a crash can leave in a grown file", () => {
    const r = decodeRecordAt(new Uint8Array(64), 0);
    expect(r.ok).toBe(false);
    expect(findValidRecordAfter(new Uint8Array(4096), 0)).toBeUndefined();
  });

  it("finds the next valid record after damage, at an aligned offset", () => {
    const a = encodeRecord(RecordType.entry, bytes(30, 1));
    const b = encodeRecord(RecordType.entry, bytes(9, 2));
    const buf = Buffer.concat([a, b]);
    buf[RECORD_HEADER_BYTES] = (buf[RECORD_HEADER_BYTES] as number) ^ 1;
    expect(decodeRecordAt(buf, 0).ok).toBe(false);
    expect(findValidRecordAfter(buf, 0)).toBe(a.length);
    expect(findValidRecordAfter(buf, a.length)).toBeUndefined();
  });

  it("round-trips the WAL's own payloads", () => {
    expect(decodeSegmentHeader(encodeSegmentHeader({ seq: 7, firstIndex: 123456789 }))).toEqual({
      seq: 7,
      firstIndex: 123456789,
    });
    expect(decodeMetadata(encodeMetadata({ clusterId: 2 ** 53 - 1, memberId: 0xabc }))).toEqual({
      clusterId: 2 ** 53 - 1,
      memberId: 0xabc,
    });
    for (const kind of ["local", "restore"] as const) {
      expect(decodeSnapshotMarker(encodeSnapshotMarker({ index: 99, term: 4, kind }))).toEqual({
        index: 99,
        term: 4,
        kind,
      });
    }
    expect(() => decodeSegmentHeader(Buffer.alloc(24))).toThrow(/magic/);
    expect(() => encodeMetadata({ clusterId: -1, memberId: 1 })).toThrow(/53-bit/);
  });
});
