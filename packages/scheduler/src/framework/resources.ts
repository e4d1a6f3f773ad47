// Resource amounts as the scheduler counts them: plain numbers in a fixed unit per resource
// (cpu in millicores, memory and ephemeral-storage in bytes, everything else in whole units),
// as kube-scheduler's framework.Resource does. Quantities are parsed once, when a pod or a node
// enters the cache, so that filtering and scoring never touch a quantity string.
// Reference: https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/

import type { Container, Pod } from "@tug/api";
import { Quantity, QuantityError } from "@tug/api";

export const RESOURCE_CPU = "cpu";
export const RESOURCE_MEMORY = "memory";
export const RESOURCE_EPHEMERAL_STORAGE = "ephemeral-storage";
export const RESOURCE_PODS = "pods";

/**
 * The request kube-scheduler assumes for scoring when a container requests no cpu
 * (schedutil.DefaultMilliCPURequest): 0.1 core, so that best-effort pods still spread.
 */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
/** The memory request assumed for scoring when a container requests none: 200 MiB. */
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

/**
 * An amount of each resource. `scalar` holds every other resource (hugepages-*, extended
 * resources such as example.com/gpu) in whole units; absent means none.
 */
export interface Resources {
  milliCpu: number;
  memory: number;
  ephemeralStorage: number;
  scalar: Map<string, number> | undefined;
}

export function emptyResources(): Resources {
  return { milliCpu: 0, memory: 0, ephemeralStorage: 0, scalar: undefined };
}

/** A map of quantity strings (requests, limits, allocatable) that did not parse. */
export class ResourceParseError extends Error {
  constructor(
    readonly field: string,
    readonly value: string,
    cause: unknown,
  ) {
    super(
      `${field}: invalid quantity ${JSON.stringify(value)}: ${
        cause instanceof Error ? cause.message : String(cause)
      } (use Kubernetes' quantity form, e.g. "500m" or "128Mi")`,
      { cause },
    );
    this.name = "ResourceParseError";
  }
}

// Quantity strings repeat endlessly across pods and nodes ("100m", "1Gi"); parse each once.
const parsedCache = new Map<string, number>();
const PARSED_CACHE_LIMIT = 4096;

/**
 * The amount of `text` in the scheduler's unit for resource `name`: millis for cpu, whole
 * units (rounded up, as Quantity.Value) for everything else. Throws {@link ResourceParseError}
 * naming `field`.
 */
export function resourceAmount(name: string, text: string, field: string): number {
  const cacheKey = name === RESOURCE_CPU ? `m:${text}` : `v:${text}`;
  const cached = parsedCache.get(cacheKey);
  if (cached !== undefined) return cached;
  let amount: number;
  try {
    const q = Quantity.parse(text);
    amount = Number(name === RESOURCE_CPU ? q.milliValue() : q.value());
  } catch (err) {
    if (err instanceof QuantityError || err instanceof RangeError) {
      throw new ResourceParseError(field, text, err);
    }
    throw err;
  }
  if (parsedCache.size >= PARSED_CACHE_LIMIT) parsedCache.clear();
  parsedCache.set(cacheKey, amount);
  return amount;
}

/** Adds `amount` of resource `name` to `into`. */
export function addResource(into: Resources, name: string, amount: number): void {
  switch (name) {
    case RESOURCE_CPU:
      into.milliCpu += amount;
      return;
    case RESOURCE_MEMORY:
      into.memory += amount;
      return;
    case RESOURCE_EPHEMERAL_STORAGE:
      into.ephemeralStorage += amount;
      return;
    case RESOURCE_PODS:
      return;
    default: {
      into.scalar ??= new Map();
      into.scalar.set(name, (into.scalar.get(name) ?? 0) + amount);
    }
  }
}

/** `into += other * sign`, resource by resource. */
export function addResources(into: Resources, other: Resources, sign: 1 | -1 = 1): void {
  into.milliCpu += sign * other.milliCpu;
  into.memory += sign * other.memory;
  into.ephemeralStorage += sign * other.ephemeralStorage;
  if (other.scalar !== undefined) {
    into.scalar ??= new Map();
    for (const [name, amount] of other.scalar) {
      into.scalar.set(name, (into.scalar.get(name) ?? 0) + sign * amount);
    }
  }
}

/** `into = max(into, other)`, resource by resource. */
function maxResources(into: Resources, other: Resources): void {
  into.milliCpu = Math.max(into.milliCpu, other.milliCpu);
  into.memory = Math.max(into.memory, other.memory);
  into.ephemeralStorage = Math.max(into.ephemeralStorage, other.ephemeralStorage);
  if (other.scalar !== undefined) {
    into.scalar ??= new Map();
    for (const [name, amount] of other.scalar) {
      into.scalar.set(name, Math.max(into.scalar.get(name) ?? 0, amount));
    }
  }
}

/** The amount of resource `name` in `r` (0 for pods: the pod count is kept apart). */
export function resourceValue(r: Resources, name: string): number {
  switch (name) {
    case RESOURCE_CPU:
      return r.milliCpu;
    case RESOURCE_MEMORY:
      return r.memory;
    case RESOURCE_EPHEMERAL_STORAGE:
      return r.ephemeralStorage;
    default:
      return r.scalar?.get(name) ?? 0;
  }
}

/** Parses a map of quantity strings (allocatable, requests) at `field`. */
export function parseResourceList(
  list: Readonly<Record<string, string>> | undefined,
  field: string,
): Resources {
  const out = emptyResources();
  if (list === undefined) return out;
  for (const name of Object.keys(list)) {
    const text = list[name] as string;
    addResource(out, name, resourceAmount(name, text, `${field}[${name}]`));
  }
  return out;
}

/** What a pod asks of a node, computed once per pod. */
export interface PodRequests {
  /** The effective request (what NodeResourcesFit checks and nodes account). */
  readonly requests: Resources;
  /** cpu for scoring: as `requests`, but a container without a cpu request counts 100m. */
  readonly nonZeroMilliCpu: number;
  /** memory for scoring: a container without a memory request counts 200Mi. */
  readonly nonZeroMemory: number;
}

function containerRequests(c: Container, field: string): Resources {
  return parseResourceList(c.resources?.requests, `${field}.resources.requests`);
}

function nonZero(r: Resources, c: Container): [number, number] {
  const req = c.resources?.requests;
  return [
    req !== undefined && req[RESOURCE_CPU] !== undefined ? r.milliCpu : DEFAULT_MILLI_CPU_REQUEST,
    req !== undefined && req[RESOURCE_MEMORY] !== undefined ? r.memory : DEFAULT_MEMORY_REQUEST,
  ];
}

/**
 * A pod's effective requests (resourcehelper.PodRequests): the larger of the sum over its
 * containers and the largest init container, plus pod overhead. Restartable init containers
 * (sidecars, restartPolicy Always) keep running, so they add to the sum and to every later init
 * container. Throws {@link ResourceParseError} for a request that is not a quantity.
 * Reference: https://kubernetes.io/docs/concepts/workloads/pods/init-containers/#resource-sharing-within-containers
 */
export function podRequests(pod: Pod): PodRequests {
  const spec = pod.spec;
  const sum = emptyResources();
  let sumCpu = 0;
  let sumMemory = 0;
  const containers = spec?.containers ?? [];
  for (let i = 0; i < containers.length; i++) {
    const c = containers[i] as Container;
    const r = containerRequests(c, `spec.containers[${i}]`);
    addResources(sum, r);
    const [cpu, memory] = nonZero(r, c);
    sumCpu += cpu;
    sumMemory += memory;
  }
  const initMax = emptyResources();
  let initMaxCpu = 0;
  let initMaxMemory = 0;
  const sidecars = emptyResources();
  let sidecarCpu = 0;
  let sidecarMemory = 0;
  const inits = spec?.initContainers ?? [];
  for (let i = 0; i < inits.length; i++) {
    const c = inits[i] as Container;
    const r = containerRequests(c, `spec.initContainers[${i}]`);
    const [cpu, memory] = nonZero(r, c);
    if (c.restartPolicy === "Always") {
      addResources(sidecars, r);
      sidecarCpu += cpu;
      sidecarMemory += memory;
      addResources(sum, r);
      sumCpu += cpu;
      sumMemory += memory;
      // A sidecar's own start also needs the sidecars before it.
      const atStart = emptyResources();
      addResources(atStart, sidecars);
      maxResources(initMax, atStart);
      initMaxCpu = Math.max(initMaxCpu, sidecarCpu);
      initMaxMemory = Math.max(initMaxMemory, sidecarMemory);
    } else {
      const atRun = emptyResources();
      addResources(atRun, r);
      addResources(atRun, sidecars);
      maxResources(initMax, atRun);
      initMaxCpu = Math.max(initMaxCpu, cpu + sidecarCpu);
      initMaxMemory = Math.max(initMaxMemory, memory + sidecarMemory);
    }
  }
  maxResources(sum, initMax);
  let cpu = Math.max(sumCpu, initMaxCpu);
  let memory = Math.max(sumMemory, initMaxMemory);
  if (spec?.overhead !== undefined && Object.keys(spec.overhead).length > 0) {
    const overhead = parseResourceList(spec.overhead, "spec.overhead");
    addResources(sum, overhead);
    cpu += overhead.milliCpu;
    memory += overhead.memory;
  }
  return { requests: sum, nonZeroMilliCpu: cpu, nonZeroMemory: memory };
}
