// Custom metadata (PROTOCOL-HTTP2.md "Custom-Metadata"): HTTP/2 headers with lowercase names
// of [0-9a-z_.-]; a name ending in "-bin" carries binary values, base64-encoded on the wire,
// any other name printable ASCII (0x20–0x7E). The API follows grpc-js's Metadata (get, set,
// add, remove, getMap), so code written for grpc-js reads and writes it unchanged.

import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";

export type MetadataValue = string | Buffer;

const KEY = /^[0-9a-z_.-]+$/;
const ASCII_VALUE = /^[\x20-\x7e]*$/;

/**
 * Headers that belong to the protocol, not to the application: never copied into Metadata
 * from a request, and refused by set/add (the server and client write them themselves).
 */
const RESERVED = new Set([
  "content-type",
  "te",
  "grpc-timeout",
  "grpc-encoding",
  "grpc-accept-encoding",
  "grpc-status",
  "grpc-message",
  "grpc-status-details-bin",
  "accept-encoding",
]);

function isBinaryKey(key: string): boolean {
  return key.endsWith("-bin");
}

function checkEntry(key: string, value: MetadataValue): void {
  if (!KEY.test(key)) {
    throw new Error(
      `metadata key ${JSON.stringify(key)} is invalid: use only 0-9, a-z, '_', '-' and '.'`,
    );
  }
  if (isBinaryKey(key)) {
    if (!Buffer.isBuffer(value)) {
      throw new Error(
        `metadata key ${JSON.stringify(key)} ends with "-bin": its value must be a Buffer`,
      );
    }
  } else if (typeof value !== "string" || !ASCII_VALUE.test(value)) {
    throw new Error(
      `metadata value of ${JSON.stringify(key)} must be a string of printable ASCII (0x20-0x7E); ` +
        `send binary data under a key ending in "-bin"`,
    );
  }
}

export class Metadata {
  private readonly entries = new Map<string, MetadataValue[]>();

  /** Replaces the key's values with this one. Keys are lowercased. */
  set(key: string, value: MetadataValue): void {
    const k = key.toLowerCase();
    checkEntry(k, value);
    this.entries.set(k, [value]);
  }

  /** Appends a value to the key's values. */
  add(key: string, value: MetadataValue): void {
    const k = key.toLowerCase();
    checkEntry(k, value);
    const values = this.entries.get(k);
    if (values === undefined) this.entries.set(k, [value]);
    else values.push(value);
  }

  remove(key: string): void {
    this.entries.delete(key.toLowerCase());
  }

  /** The key's values in the order added; a fresh array, empty when there are none. */
  get(key: string): MetadataValue[] {
    return [...(this.entries.get(key.toLowerCase()) ?? [])];
  }

  /** Each key's first value. */
  getMap(): Record<string, MetadataValue> {
    const out: Record<string, MetadataValue> = {};
    for (const [key, values] of this.entries) {
      const first = values[0];
      if (first !== undefined) out[key] = first;
    }
    return out;
  }

  /** Whether there is no entry (a cheap test before building headers). */
  get empty(): boolean {
    return this.entries.size === 0;
  }

  clone(): Metadata {
    const copy = new Metadata();
    for (const [key, values] of this.entries) copy.entries.set(key, [...values]);
    return copy;
  }

  /** Appends the other metadata's values to this one's. */
  merge(other: Metadata): void {
    for (const [key, values] of other.entries) {
      const mine = this.entries.get(key);
      if (mine === undefined) this.entries.set(key, [...values]);
      else mine.push(...values);
    }
  }

  toJSON(): Record<string, MetadataValue[]> {
    return Object.fromEntries(this.entries);
  }

  /** The entries as HTTP/2 headers: binary values base64-encoded, several values as an array. */
  toHttp2Headers(): OutgoingHttpHeaders {
    const headers: OutgoingHttpHeaders = {};
    for (const [key, values] of this.entries) {
      const wire = values.map((v) => (typeof v === "string" ? v : v.toString("base64")));
      headers[key] = wire.length === 1 ? wire[0] : wire;
    }
    return headers;
  }

  /**
   * The custom metadata of received HTTP/2 headers: pseudo-headers and the protocol's own
   * headers (content-type, te, grpc-timeout, grpc-encoding, ...) are left out. Node joins a
   * repeated header's values with ", "; a "-bin" value is split back at the commas (base64
   * has none), a text value is kept whole, as grpc-js does.
   */
  static fromHttp2Headers(headers: IncomingHttpHeaders): Metadata {
    const metadata = new Metadata();
    for (const key in headers) {
      if (key.charCodeAt(0) === 0x3a || RESERVED.has(key)) continue;
      const value = headers[key];
      if (value === undefined) continue;
      const values = Array.isArray(value) ? value : [value];
      const list: MetadataValue[] = [];
      if (isBinaryKey(key)) {
        for (const v of values) {
          for (const part of v.split(",")) list.push(Buffer.from(part.trim(), "base64"));
        }
      } else {
        list.push(...values);
      }
      // Received values are not checked: a peer's odd header must not fail the call.
      metadata.entries.set(key, list);
    }
    return metadata;
  }
}
