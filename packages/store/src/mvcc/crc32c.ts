// CRC-32C (Castagnoli), the checksum etcd's HashKV uses, in plain JavaScript so the keyspace
// stays free of Node built-ins. Slicing-by-8: eight table lookups per eight bytes.

const POLY = 0x82f63b78; // reversed Castagnoli polynomial

const TABLES: Uint32Array[] = (() => {
  const t: Uint32Array[] = [];
  const t0 = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t0[i] = c >>> 0;
  }
  t.push(t0);
  for (let s = 1; s < 8; s++) {
    const prev = t[s - 1] as Uint32Array;
    const ts = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      const p = prev[i] as number;
      ts[i] = ((p >>> 8) ^ (t0[p & 0xff] as number)) >>> 0;
    }
    t.push(ts);
  }
  return t;
})();

const [T0, T1, T2, T3, T4, T5, T6, T7] = TABLES as [
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
];

/**
 * Extends `crc` (0 to start) over data[0, end); returns the new CRC as an unsigned 32-bit
 * number. `end` spares callers a subarray per call on hot paths.
 */
export function crc32c(data: Uint8Array, crc = 0, end = data.length): number {
  const t0 = T0;
  const t1 = T1;
  const t2 = T2;
  const t3 = T3;
  const t4 = T4;
  const t5 = T5;
  const t6 = T6;
  const t7 = T7;
  let c = ~crc >>> 0;
  let i = 0;
  const n = end;
  const n8 = n - (n % 8);
  const d = data;
  for (; i < n8; i += 8) {
    const w =
      (d[i] as number) |
      ((d[i + 1] as number) << 8) |
      ((d[i + 2] as number) << 16) |
      ((d[i + 3] as number) << 24);
    const lo = (c ^ w) >>> 0;
    c =
      (t7[lo & 0xff] as number) ^
      (t6[(lo >>> 8) & 0xff] as number) ^
      (t5[(lo >>> 16) & 0xff] as number) ^
      (t4[lo >>> 24] as number) ^
      (t3[d[i + 4] as number] as number) ^
      (t2[d[i + 5] as number] as number) ^
      (t1[d[i + 6] as number] as number) ^
      (t0[d[i + 7] as number] as number);
  }
  for (; i < n; i++) c = (t0[(c ^ (d[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return ~c >>> 0;
}
