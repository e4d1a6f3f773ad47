// Facts about the host the Node object reports: CPUs, memory, disk, addresses, identity
// (https://kubernetes.io/docs/reference/node/node-status/).

import { readFileSync, statfsSync } from "node:fs";
import { arch, cpus, hostname, networkInterfaces, release, totalmem } from "node:os";

/** Kubernetes' GOARCH name of Node.js's arch. */
export function goArch(nodeArch = arch()): string {
  const map: Record<string, string> = {
    x64: "amd64",
    ia32: "386",
    arm64: "arm64",
    arm: "arm",
    ppc64: "ppc64le",
    s390x: "s390x",
  };
  return map[nodeArch] ?? nodeArch;
}

function readTrimmed(path: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return "";
  }
}

/** PRETTY_NAME of /etc/os-release ("Debian GNU/Linux 12 (bookworm)"). */
export function osImage(): string {
  const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readTrimmed("/etc/os-release"));
  return m?.[1] ?? "Linux";
}

export function machineId(): string {
  return readTrimmed("/etc/machine-id");
}

export function bootId(): string {
  return readTrimmed("/proc/sys/kernel/random/boot_id");
}

export function kernelVersion(): string {
  return release();
}

export function hostName(): string {
  return hostname();
}

export function cpuCount(): number {
  return cpus().length;
}

export function memoryBytes(): number {
  return totalmem();
}

/** Bytes total and available on the filesystem holding `path`; undefined if it cannot be read. */
export function filesystemBytes(path: string): { total: number; available: number } | undefined {
  try {
    const st = statfsSync(path);
    return { total: st.blocks * st.bsize, available: st.bavail * st.bsize };
  } catch {
    return undefined;
  }
}

/** MemAvailable of /proc/meminfo in bytes (what the kubelet's memory.available is based on). */
export function memoryAvailableBytes(): number | undefined {
  const m = /^MemAvailable:\s+(\d+) kB$/m.exec(readTrimmed("/proc/meminfo"));
  return m?.[1] === undefined ? undefined : Number(m[1]) * 1024;
}

/** The first non-internal IPv4 address of the host (the kubelet's default node IP choice). */
export function defaultNodeIp(): string {
  // Bridges made by the container runtime are not the node's address.
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    if (/^(docker|br-|veth|tug)/.test(name)) continue;
    for (const a of addrs ?? []) {
      if (a.family === "IPv4" && !a.internal) return a.address;
    }
  }
  return "127.0.0.1";
}
