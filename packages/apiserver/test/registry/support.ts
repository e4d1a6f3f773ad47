// Deterministic environment and object builders for registry and admission tests.

import { type KindInfo, objectFromJson, objectToJson, resolveKindName } from "@tug/api";
import type { ApiObject } from "../../src/registry/api-object.js";
import { defaultRegistryEnv, type RegistryEnv } from "../../src/registry/strategy.js";

/** 2026-01-02T03:04:05.678Z: the fractional second shows whether timestamps are truncated. */
export const NOW = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
export const NOW_SECONDS = BigInt(Math.floor(NOW.getTime() / 1000));

/** A fixed clock, uids "uid-1", "uid-2", ... and a random source cycling through `randoms`. */
export function testEnv(randoms: readonly number[] = [0], overrides: Partial<RegistryEnv> = {}) {
  let uids = 0;
  let r = 0;
  return defaultRegistryEnv({
    now: () => NOW,
    newUid: () => `uid-${++uids}`,
    random: () => randoms[r++ % randoms.length] as number,
    ...overrides,
  });
}

export function kind(name: string): KindInfo {
  return resolveKindName(name);
}

/** An object from its Kubernetes JSON. */
export function obj<T extends ApiObject = ApiObject>(json: Record<string, unknown>): T {
  return objectFromJson(json) as unknown as T;
}

/** The Kubernetes JSON of an object. */
export function json(o: ApiObject): Record<string, unknown> {
  return objectToJson(o as never) as Record<string, unknown>;
}
