// ContainerStats and ListContainerStats from Docker's one-shot stats. Working set as cAdvisor
// and the kubelet define it: memory usage minus inactive file pages (cgroup v1
// total_inactive_file, cgroup v2 inactive_file), never below 0.

import { create } from "@bufbuild/protobuf";
import type Docker from "dockerode";
import {
  dockerToCriLabels,
  LABEL,
  labelFilters,
  labelNumber,
  ownedFilters,
  TYPE_CONTAINER,
} from "./container-labels.js";
import { inspectContainer } from "./containers.js";
import { CriError, isDockerNotFound, toCriError } from "./cri-error.js";
import { rfc3339ToNanos } from "./docker-time.js";
import {
  type ContainerStats,
  type ContainerStatsFilter,
  ContainerStatsSchema,
} from "./gen/cri/api_pb.js";
import type { RuntimeContext } from "./runtime-context.js";

interface StatsSource {
  id: string;
  labels: Readonly<Record<string, string>>;
}

async function statsOf(docker: Docker, source: StatsSource): Promise<ContainerStats> {
  let stats: Docker.ContainerStats;
  try {
    stats = await docker.getContainer(source.id).stats({ stream: false, "one-shot": true });
  } catch (e) {
    throw toCriError(e, `read the stats of container ${source.id}`);
  }
  const timestamp = rfc3339ToNanos(stats.read) || BigInt(Date.now()) * 1_000_000n;
  const mem = stats.memory_stats ?? { usage: 0, limit: 0, stats: {} };
  const memStats = (mem.stats ?? {}) as Record<string, number | undefined>;
  const usage = mem.usage ?? 0;
  const inactive = memStats.total_inactive_file ?? memStats.inactive_file ?? 0;
  const workingSet = Math.max(0, usage - inactive);
  const rss = memStats.total_rss ?? memStats.anon ?? 0;
  const cri = dockerToCriLabels(source.labels);
  const limit = mem.limit ?? 0;
  return create(ContainerStatsSchema, {
    attributes: {
      id: source.id,
      metadata: {
        name: source.labels[LABEL.containerName] ?? "",
        attempt: labelNumber(source.labels, LABEL.containerAttempt),
      },
      labels: cri.labels,
      annotations: cri.annotations,
    },
    cpu: {
      timestamp,
      usageCoreNanoSeconds: { value: BigInt(stats.cpu_stats?.cpu_usage?.total_usage ?? 0) },
    },
    memory: {
      timestamp,
      workingSetBytes: { value: BigInt(workingSet) },
      usageBytes: { value: BigInt(usage) },
      rssBytes: { value: BigInt(rss) },
      ...(limit > 0 ? { availableBytes: { value: BigInt(Math.max(0, limit - workingSet)) } } : {}),
      pageFaults: { value: BigInt(memStats.total_pgfault ?? memStats.pgfault ?? 0) },
      majorPageFaults: { value: BigInt(memStats.total_pgmajfault ?? memStats.pgmajfault ?? 0) },
    },
  });
}

/** ContainerStats of one container; NOT_FOUND if it is not a CRI container. */
export async function containerStats(ctx: RuntimeContext, id: string): Promise<ContainerStats> {
  const info = await inspectContainer(ctx, id);
  return statsOf(ctx.docker, { id: info.Id, labels: info.Config.Labels ?? {} });
}

/** ListContainerStats: stats of the running CRI containers matching the filter. */
export async function listContainerStats(
  ctx: RuntimeContext,
  filter: ContainerStatsFilter | undefined,
): Promise<ContainerStats[]> {
  const docker = ctx.docker;
  const labels = [
    ...ownedFilters(ctx.instance, TYPE_CONTAINER),
    ...labelFilters(filter?.labelSelector ?? {}),
  ];
  if (filter?.podSandboxId) labels.push(`${LABEL.sandboxId}=${filter.podSandboxId}`);
  const filters: Record<string, string[]> = { label: labels, status: ["running"] };
  if (filter?.id) filters.id = [filter.id];
  let list: Docker.ContainerInfo[];
  try {
    list = await docker.listContainers({ filters });
  } catch (e) {
    throw toCriError(e, "list containers for stats");
  }
  const out: ContainerStats[] = [];
  for (const c of list) {
    try {
      out.push(await statsOf(docker, { id: c.Id, labels: c.Labels ?? {} }));
    } catch (e) {
      // A container that went away between the list and its stats is simply not listed.
      if (!(e instanceof CriError && isDockerNotFound(e.cause))) throw e;
    }
  }
  return out;
}
