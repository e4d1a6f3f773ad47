// The example manifests of packages/api/test/fixtures, applied to a real tug-apiserver as
// `tug apply -f` would: every object is admitted, defaulted, validated and stored. Subresource
// bodies go to their verbs: a Binding to Bind, an Eviction to Evict.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import {
  type Binding,
  type Eviction,
  NamespaceSchema,
  parseManifests,
  ServiceAccountSchema,
} from "@tug/api";
import { isApiError } from "@tug/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SYSTEM_NAMESPACES } from "../../src/server/api-handlers.js";
import { STORES } from "../support/stores.js";
import { type Harness, startHarness } from "./harness.js";

const FIXTURES = join(import.meta.dirname, "../../../api/test/fixtures");
/**
 * kitchen-sink.yaml is left out: it is the scheme's codec fixture, setting every field of every
 * kind at once, and Kubernetes' validation refuses its pod (a probe's
 * terminationGracePeriodSeconds of 0, a NoSchedule toleration with tolerationSeconds, ...).
 */
const FILES = readdirSync(FIXTURES).filter((f) => f.endsWith(".yaml") && f !== "kitchen-sink.yaml");

async function ignoreExisting(p: Promise<unknown>): Promise<void> {
  await p.catch((e: unknown) => {
    if (!isApiError(e, "AlreadyExists")) throw e;
  });
}

describe.each(STORES)("the example manifests on $name", ({ start }) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(start);
  });
  afterAll(async () => {
    await h?.stop();
  });

  it.each(FILES)("%s creates fine", async (file) => {
    const manifests = parseManifests(readFileSync(join(FIXTURES, file), "utf8"));
    // The namespaces the manifests use, with the account the ServiceAccount controller would
    // have made in each.
    const namespaces = new Set(
      manifests
        .filter((m) => m.kind.namespaced)
        .map((m) => (m.object as { metadata?: { namespace?: string } }).metadata?.namespace || ""),
    );
    for (const ns of namespaces) {
      if (ns === "" || SYSTEM_NAMESPACES.includes(ns)) continue;
      await ignoreExisting(
        h.client.create(NamespaceSchema, create(NamespaceSchema, { metadata: { name: ns } })),
      );
      await ignoreExisting(
        h.client.create(
          ServiceAccountSchema,
          create(ServiceAccountSchema, { metadata: { name: "default", namespace: ns } }),
        ),
      );
    }
    const created: string[] = [];
    const apply = async (m: (typeof manifests)[number]): Promise<void> => {
      const name = (m.object as { metadata?: { name?: string } }).metadata?.name ?? "";
      if (m.kind.kind === "Binding") {
        const b = m.object as Binding;
        await h.client.bind(b.metadata?.namespace || "default", name, b.target?.name ?? "");
      } else if (m.kind.kind === "Eviction") {
        const e = m.object as Eviction;
        await h.client.evict(e.metadata?.namespace || "default", name);
      } else {
        await h.client.create(m.kind, m.object, { namespace: "default" });
      }
      created.push(`${m.kind.kind} ${name}`);
    };
    // Like running `kubectl apply -f` twice: an object that needs one later in the file (a pod
    // and its service account) goes in on the second pass.
    let pending = manifests;
    for (const pass of [1, 2]) {
      const failed: typeof manifests = [];
      for (const m of pending) {
        try {
          await apply(m);
        } catch (e) {
          // Two fixtures may hold the same object (the same example pod); not a failure.
          if (isApiError(e, "AlreadyExists")) continue;
          const name = (m.object as { metadata?: { name?: string } }).metadata?.name ?? "";
          if (pass === 2) {
            throw new Error(`${file} ${m.kind.kind} "${name}": ${(e as Error).message}`, {
              cause: e,
            });
          }
          failed.push(m);
        }
      }
      pending = failed;
    }
    expect(created.length).toBeGreaterThan(0);
  });
});
