import type { Job } from "@tug/api";
import { describe, expect, it } from "vitest";
import { strategyFor } from "../../src/registry/strategy.js";
import { json, kind, obj, testEnv } from "./support.js";

const job = (spec: Record<string, unknown>) =>
  obj<Job>({
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "pi", namespace: "default" },
    spec,
  });

const template = { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "i" }] } };

describe("a Job's generated selector", () => {
  it.each([
    {
      name: "no selector: one is generated and the template labelled",
      spec: { template },
      selector: { matchLabels: { "batch.kubernetes.io/controller-uid": "uid-1" } },
      labels: {
        "batch.kubernetes.io/controller-uid": "uid-1",
        "batch.kubernetes.io/job-name": "pi",
        "controller-uid": "uid-1",
        "job-name": "pi",
      },
    },
    {
      name: "the user's labels are kept",
      spec: {
        template: { ...template, metadata: { labels: { app: "pi", "job-name": "custom" } } },
      },
      selector: { matchLabels: { "batch.kubernetes.io/controller-uid": "uid-1" } },
      labels: {
        app: "pi",
        "batch.kubernetes.io/controller-uid": "uid-1",
        "batch.kubernetes.io/job-name": "pi",
        "controller-uid": "uid-1",
        "job-name": "custom",
      },
    },
    {
      name: "manualSelector: nothing is generated",
      spec: {
        manualSelector: true,
        selector: { matchLabels: { app: "pi" } },
        template: { ...template, metadata: { labels: { app: "pi" } } },
      },
      selector: { matchLabels: { app: "pi" } },
      labels: { app: "pi" },
    },
  ])("$name", ({ spec, selector, labels }) => {
    const j = job(spec);
    strategyFor(kind("jobs"), testEnv()).prepareForCreate(j);
    const out = json(j).spec as { selector: unknown; template: { metadata: { labels: unknown } } };
    expect(out.selector).toEqual(selector);
    expect(out.template.metadata.labels).toEqual(labels);
  });

  it("uses the generated name", () => {
    const j = obj<Job>({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { generateName: "pi-", namespace: "default" },
      spec: { template },
    });
    strategyFor(kind("jobs"), testEnv()).prepareForCreate(j);
    expect(j.spec?.template?.metadata?.labels["job-name"]).toBe("pi-bbbbb");
  });
});
