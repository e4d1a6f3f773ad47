// The pod-template-hash label (Kubernetes' controller.ComputeHash): a short, stable name for a
// Deployment's pod template, which names its ReplicaSet and labels its pods so that the
// ReplicaSets of one Deployment never select each other's pods.
// https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#pod-template-hash-label
//
// Kubernetes hashes its in-memory template with FNV-1a (32 bit) and prints the decimal sum in
// the "safe" alphabet below. tug hashes the template's canonical proto3 JSON (keys sorted at
// every level), so the hash depends only on the template's content: the same in every process
// and every version of tug, whatever the field order of the message in memory.

import { toJson } from "@bufbuild/protobuf";
import { type PodTemplateSpec, PodTemplateSpecSchema } from "@tug/api";

/** The label every ReplicaSet of a Deployment, and their pods, carry. */
export const POD_TEMPLATE_HASH_LABEL = "pod-template-hash";

/**
 * Characters of Kubernetes' rand.SafeEncodeString: no vowels (no words) and none of the look-alikes
 * 0/1/3 (no confusion with o/l/e).
 */
export const SAFE_ENCODING_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

const FNV32_OFFSET_BASIS = 0x811c9dc5;
const FNV32_PRIME = 0x01000193;

/** FNV-1a, 32 bit, over `bytes`, continuing from `hash`. */
export function fnv32a(bytes: Uint8Array, hash = FNV32_OFFSET_BASIS): number {
  let h = hash >>> 0;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, FNV32_PRIME) >>> 0;
  }
  return h >>> 0;
}

/** Kubernetes' rand.SafeEncodeString: each character mapped into SAFE_ENCODING_ALPHABET. */
export function safeEncodeString(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    out += SAFE_ENCODING_ALPHABET[s.charCodeAt(i) % SAFE_ENCODING_ALPHABET.length];
  }
  return out;
}

/** JSON with object keys sorted at every level: one text per value. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      out[key] = sortKeys((value as Record<string, unknown>)[key]);
    }
    return out;
  }
  return value;
}

/** The canonical JSON of a pod template. */
export function templateJson(template: PodTemplateSpec | undefined): string {
  if (template === undefined) return "{}";
  return canonicalJson(toJson(PodTemplateSpecSchema, template));
}

/**
 * The pod-template-hash of `template` with the Deployment's status.collisionCount (appended to
 * the hashed bytes as a little-endian uint32 when set, as Kubernetes does, so that a collision
 * is resolved by bumping the count).
 */
export function computePodTemplateHash(
  template: PodTemplateSpec | undefined,
  collisionCount?: number,
): string {
  let hash = fnv32a(new TextEncoder().encode(templateJson(template)));
  if (collisionCount !== undefined) {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, collisionCount >>> 0, true);
    hash = fnv32a(bytes, hash);
  }
  return safeEncodeString(String(hash));
}

/**
 * True when two templates are equal but for the pod-template-hash label (Kubernetes'
 * EqualIgnoreHash): how a Deployment recognises the ReplicaSet of its current template.
 */
export function equalIgnoreHash(
  a: PodTemplateSpec | undefined,
  b: PodTemplateSpec | undefined,
): boolean {
  return withoutHash(a) === withoutHash(b);
}

function withoutHash(template: PodTemplateSpec | undefined): string {
  if (template === undefined) return templateJson(template);
  const json = toJson(PodTemplateSpecSchema, template) as {
    metadata?: { labels?: Record<string, string> };
  };
  if (json.metadata?.labels !== undefined) {
    delete json.metadata.labels[POD_TEMPLATE_HASH_LABEL];
    if (Object.keys(json.metadata.labels).length === 0) delete json.metadata.labels;
  }
  if (json.metadata !== undefined && Object.keys(json.metadata).length === 0) delete json.metadata;
  return canonicalJson(json);
}
