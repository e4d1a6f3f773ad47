// ImageService against the real Docker engine (no registry is reachable here): status of a
// present and an absent image, PullImage of a present image without network and of an absent
// one with a clear error, ListImages, RemoveImage idempotence, ImageFsInfo.

import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CriError } from "../src/index.js";
import { BUSYBOX, type Harness, startHarness } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const ABSENT = "tug/never-built-image:0.0.0";

describe("images", () => {
  it("reports a present image's id, tags and size, and no image for an absent one", async () => {
    const present = await h.client.image.imageStatus({ image: { image: BUSYBOX } });
    expect(present.image?.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(present.image?.repoTags).toContain(BUSYBOX);
    expect(present.image?.size).toBeGreaterThan(0n);
    const absent = await h.client.image.imageStatus({ image: { image: ABSENT } });
    expect(absent.image).toBeUndefined();
  });

  it("pulls a present image without a registry, and fails clearly for an absent one", async () => {
    const id = (await h.client.image.imageStatus({ image: { image: BUSYBOX } })).image?.id;
    const pulled = await h.client.image.pullImage({ image: { image: BUSYBOX } });
    expect(pulled.imageRef).toBe(id);
    const failed = await h.client.image
      .pullImage({ image: { image: ABSENT } })
      .catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(CriError);
    expect((failed as CriError).message).toContain(`pull image "${ABSENT}"`);
    expect((failed as CriError).message).toContain("not present on this node");
    expect([status.NOT_FOUND, status.FAILED_PRECONDITION]).toContain((failed as CriError).code);
  });

  it("lists images, filtered by reference", async () => {
    const all = await h.client.image.listImages({});
    expect(all.images.flatMap((i) => i.repoTags)).toEqual(
      expect.arrayContaining(["tug/busybox:latest", "tug/pause:latest"]),
    );
    const one = await h.client.image.listImages({ filter: { image: { image: BUSYBOX } } });
    expect(one.images.map((i) => i.repoTags)).toEqual([[BUSYBOX]]);
    const none = await h.client.image.listImages({ filter: { image: { image: ABSENT } } });
    expect(none.images).toEqual([]);
  });

  it("removes an image idempotently", async () => {
    const tag = `tug/cri-test-${h.runId}:latest`;
    await h.docker.getImage(BUSYBOX).tag({ repo: `tug/cri-test-${h.runId}`, tag: "latest" });
    try {
      await h.client.image.removeImage({ image: { image: tag } });
      expect((await h.client.image.imageStatus({ image: { image: tag } })).image).toBeUndefined();
      await h.client.image.removeImage({ image: { image: tag } });
      // Removing a tag leaves the image it named.
      expect((await h.client.image.imageStatus({ image: { image: BUSYBOX } })).image).toBeDefined();
    } finally {
      await h.docker
        .getImage(tag)
        .remove()
        .catch(() => undefined);
    }
  });

  it("reports the image filesystem and its usage", async () => {
    const fs = await h.client.image.imageFsInfo({});
    const usage = fs.imageFilesystems[0];
    expect(usage?.fsId?.mountpoint).toMatch(/^\/.+/);
    expect(usage?.usedBytes?.value).toBeGreaterThan(0n);
    expect(usage?.timestamp).toBeGreaterThan(0n);
  });
});
