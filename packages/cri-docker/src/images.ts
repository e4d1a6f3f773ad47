// CRI's ImageService over Docker's images: ListImages, ImageStatus, PullImage, RemoveImage,
// ImageFsInfo. Image references are Docker's ("tug/busybox:latest", "sha256:..."); CRI's
// image_ref of an image is its Docker id.

import { create } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
import type Docker from "dockerode";
import { CriError, dockerStatusCode, isDockerNotFound, toCriError } from "./cri-error.js";
import { nowNanos } from "./docker-time.js";
import {
  type Image,
  type ImageFsInfoResponse,
  ImageFsInfoResponseSchema,
  ImageSchema,
  type ImageSpec,
  type ImageStatusResponse,
  ImageStatusResponseSchema,
  type ListImagesResponse,
  ListImagesResponseSchema,
  type PullImageRequest,
  PullImageRequestSchema,
} from "./gen/cri/api_pb.js";

const NONE_TAG = "<none>:<none>";
const NONE_DIGEST = "<none>@<none>";

function imageRef(spec: ImageSpec | undefined, field: string): string {
  const ref = spec?.image ?? "";
  if (ref === "") throw CriError.invalidArgument(`${field}.image is required; name an image`);
  return ref;
}

/** CRI's uid/username of an image from its configured USER ("1000", "1000:1000", "nobody"). */
function imageUser(user: string): { uid?: { value: bigint }; username: string } {
  const name = user.split(":")[0] ?? "";
  if (name === "") return { username: "" };
  if (/^\d+$/.test(name)) return { uid: { value: BigInt(name) }, username: "" };
  return { username: name };
}

function toImage(info: {
  Id: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Size: number;
  user: string;
}): Image {
  return create(ImageSchema, {
    id: info.Id,
    repoTags: (info.RepoTags ?? []).filter((t) => t !== NONE_TAG),
    repoDigests: (info.RepoDigests ?? []).filter((d) => d !== NONE_DIGEST),
    size: BigInt(info.Size),
    ...imageUser(info.user),
  });
}

/** The image named `ref`, or undefined when the engine has none. */
export async function inspectImage(
  docker: Docker,
  ref: string,
): Promise<Docker.ImageInspectInfo | undefined> {
  try {
    return await docker.getImage(ref).inspect();
  } catch (e) {
    if (isDockerNotFound(e)) return undefined;
    throw toCriError(e, `inspect image "${ref}"`);
  }
}

/** ListImages; a filter's image matches by reference (tag or id), as `docker images <ref>`. */
export async function listImages(docker: Docker, filterRef: string): Promise<ListImagesResponse> {
  if (filterRef !== "") {
    const info = await inspectImage(docker, filterRef);
    return create(ListImagesResponseSchema, {
      images: info === undefined ? [] : [toImage({ ...info, user: info.Config?.User ?? "" })],
    });
  }
  let list: Docker.ImageInfo[];
  try {
    list = await docker.listImages();
  } catch (e) {
    throw toCriError(e, "list images");
  }
  // The list does not carry the image's USER; CRI lets ListImages leave uid/username unset.
  return create(ListImagesResponseSchema, {
    images: list.map((i) => toImage({ ...i, user: "" })),
  });
}

/** ImageStatus: the image, or a response without one when it is not present (CRI's rule). */
export async function imageStatus(
  docker: Docker,
  spec: ImageSpec | undefined,
): Promise<ImageStatusResponse> {
  const ref = imageRef(spec, "image");
  const info = await inspectImage(docker, ref);
  if (info === undefined) return create(ImageStatusResponseSchema, {});
  return create(ImageStatusResponseSchema, {
    image: toImage({ ...info, user: info.Config?.User ?? "" }),
  });
}

/**
 * PullImage: an image already present answers at once with its id (no registry is asked, so
 * this works offline); an absent one is pulled with `docker pull` semantics.
 */
export async function pullImage(docker: Docker, req: PullImageRequest): Promise<string> {
  const ref = imageRef(req.image, "image");
  const present = await inspectImage(docker, ref);
  if (present !== undefined) return present.Id;
  const auth = req.auth;
  const authconfig =
    auth !== undefined && (auth.username !== "" || auth.identityToken !== "" || auth.auth !== "")
      ? {
          username: auth.username,
          password: auth.password,
          auth: auth.auth,
          serveraddress: auth.serverAddress,
          identitytoken: auth.identityToken,
        }
      : undefined;
  try {
    const stream = await docker.pull(ref, authconfig === undefined ? {} : { authconfig });
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve()));
    });
  } catch (e) {
    const reason =
      e instanceof Error ? e.message.replace(/^\(HTTP code \d+\) [^-]*- /, "") : String(e);
    throw new CriError(
      dockerStatusCode(e) === 404 ? status.NOT_FOUND : status.FAILED_PRECONDITION,
      `pull image "${ref}": ${reason.trim()}; the image is not present on this node and could not be pulled (build or load it locally, e.g. scripts/build-images.sh, or make its registry reachable)`,
      { cause: e },
    );
  }
  const pulled = await inspectImage(docker, ref);
  if (pulled === undefined) {
    throw CriError.notFound(`pull image "${ref}": the pull finished but the image is not present`);
  }
  return pulled.Id;
}

/** Pulls `ref` if it is absent (the pause image before a sandbox is made). */
export async function ensureImage(docker: Docker, ref: string): Promise<void> {
  if ((await inspectImage(docker, ref)) !== undefined) return;
  await pullImage(docker, create(PullImageRequestSchema, { image: { image: ref } }));
}

/** RemoveImage; idempotent: a missing image is not an error. */
export async function removeImage(docker: Docker, spec: ImageSpec | undefined): Promise<void> {
  const ref = imageRef(spec, "image");
  try {
    await docker.getImage(ref).remove();
  } catch (e) {
    if (isDockerNotFound(e)) return;
    throw toCriError(e, `remove image "${ref}"`);
  }
}

/**
 * ImageFsInfo: the engine's image store (`<DockerRootDir>/<storage driver>`, e.g.
 * /var/lib/docker/vfs) and the bytes its layers use, from Docker's disk usage report.
 */
/**
 * How long an ImageFsInfo answer is reused. Docker computes disk usage by walking its store
 * (on vfs, 1-2 s of engine work here), and the agent asks periodically; image usage changes
 * only with pulls and removals.
 */
export const IMAGE_FS_INFO_TTL_MS = 10_000;

const fsInfoCache = new WeakMap<Docker, { at: number; answer: Promise<ImageFsInfoResponse> }>();

/** ImageFsInfo, answered from a cache younger than IMAGE_FS_INFO_TTL_MS when there is one. */
export function cachedImageFsInfo(docker: Docker): Promise<ImageFsInfoResponse> {
  const hit = fsInfoCache.get(docker);
  if (hit !== undefined && Date.now() - hit.at < IMAGE_FS_INFO_TTL_MS) return hit.answer;
  const answer = imageFsInfo(docker);
  fsInfoCache.set(docker, { at: Date.now(), answer });
  answer.catch(() => fsInfoCache.delete(docker));
  return answer;
}

export async function imageFsInfo(docker: Docker): Promise<ImageFsInfoResponse> {
  let mountpoint: string;
  let used: number;
  try {
    const info = (await docker.info()) as { DockerRootDir?: string; Driver?: string };
    mountpoint = `${info.DockerRootDir ?? "/var/lib/docker"}/${info.Driver ?? ""}`.replace(
      /\/$/,
      "",
    );
    const df = (await docker.df()) as { LayersSize?: number };
    used = df.LayersSize ?? 0;
  } catch (e) {
    throw toCriError(e, "read the image filesystem usage");
  }
  return create(ImageFsInfoResponseSchema, {
    imageFilesystems: [
      { timestamp: nowNanos(), fsId: { mountpoint }, usedBytes: { value: BigInt(used) } },
    ],
  });
}
