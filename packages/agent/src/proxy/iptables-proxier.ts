// Applies the service proxy's nat ruleset to the host: `iptables-restore --noflush` replaces
// only tug's chains (TUG-*) and leaves every other rule (Docker's, the admin's) alone; the
// jumps from PREROUTING, OUTPUT and POSTROUTING are inserted once. Syncs are coalesced and
// spaced by a minimum interval, as kube-proxy's --iptables-min-sync-period.

import { detectIptables, type HostCommand, type IptablesTools } from "../network/host-command.js";
import {
  CHAIN_PREFIX,
  FILTER_JUMPS,
  filterRuleset,
  NAT_JUMPS,
  natCleanupRuleset,
  natRuleset,
  SERVICES_CHAIN,
} from "./nat-ruleset.js";
import type { ProxyServicePort } from "./service-ports.js";

/** kube-proxy's --iptables-min-sync-period default (1 s): bursts of changes make one sync. */
export const MIN_SYNC_INTERVAL_MS = 1_000;

export interface IptablesProxierOptions {
  run: HostCommand;
  clusterCidr?: string;
  nodePortAddresses?: readonly string[];
}

/** The TUG-* chains in `iptables-save -t nat` output. */
export function tugChains(save: string): string[] {
  const out: string[] = [];
  for (const line of save.split("\n")) {
    if (line.startsWith(`:${CHAIN_PREFIX}`)) out.push(line.slice(1).split(" ")[0] ?? "");
  }
  return out.filter((c) => c !== "");
}

export class IptablesProxier {
  private tools: IptablesTools | undefined;

  constructor(private readonly o: IptablesProxierOptions) {}

  private async iptables(): Promise<IptablesTools> {
    this.tools ??= await detectIptables(this.o.run);
    return this.tools;
  }

  /** Programs exactly these service ports (and removes chains of ports no longer present). */
  async sync(servicePorts: readonly ProxyServicePort[]): Promise<void> {
    const t = await this.iptables();
    const existing = tugChains(await this.o.run([t.save, "-t", "nat"]));
    const input = natRuleset({
      servicePorts,
      existingChains: existing,
      ...(this.o.clusterCidr !== undefined && { clusterCidr: this.o.clusterCidr }),
      ...(this.o.nodePortAddresses !== undefined && {
        nodePortAddresses: this.o.nodePortAddresses,
      }),
    });
    // One transaction for both tables: the nat rules and the filter REJECTs change together.
    await this.o.run([t.restore, "--noflush"], `${filterRuleset(servicePorts)}${input}`);
    for (const [table, jumps] of [
      ["nat", NAT_JUMPS],
      ["filter", FILTER_JUMPS],
    ] as const) {
      for (const jump of jumps) {
        const exists = await this.o
          .run([t.iptables, "-t", table, "-C", jump.chain, ...jump.rule])
          .then(() => true)
          .catch(() => false);
        if (!exists) {
          await this.o.run([t.iptables, "-t", table, "-I", jump.chain, "1", ...jump.rule]);
        }
      }
    }
  }

  /** Removes the jumps, the proxy's nat chains and its filter chain. Safe to repeat. */
  async cleanup(): Promise<void> {
    const t = await this.iptables();
    for (const [table, jumps] of [
      ["nat", NAT_JUMPS],
      ["filter", FILTER_JUMPS],
    ] as const) {
      for (const jump of jumps) {
        for (;;) {
          const removed = await this.o
            .run([t.iptables, "-t", table, "-D", jump.chain, ...jump.rule])
            .then(() => true)
            .catch(() => false);
          if (!removed) break;
        }
      }
    }
    const filterChain = await this.o
      .run([t.iptables, "-t", "filter", "-S", SERVICES_CHAIN])
      .then(() => true)
      .catch(() => false);
    if (filterChain) {
      await this.o.run([t.iptables, "-t", "filter", "-F", SERVICES_CHAIN]);
      await this.o.run([t.iptables, "-t", "filter", "-X", SERVICES_CHAIN]);
    }
    const existing = tugChains(await this.o.run([t.save, "-t", "nat"]));
    if (existing.length > 0)
      await this.o.run([t.restore, "--noflush"], natCleanupRuleset(existing));
  }
}

/**
 * Coalesces sync requests: at most one sync runs at a time, syncs start at least
 * `minIntervalMs` apart, and a request during a sync causes one more sync after it. A failed
 * sync is reported and retried after the interval.
 */
export class SyncRunner {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private dirty = false;
  private lastStart = Number.NEGATIVE_INFINITY;
  private stopped = false;

  constructor(
    private readonly syncOnce: () => Promise<void>,
    private readonly minIntervalMs: number,
    private readonly onError: (e: unknown) => void,
  ) {}

  /** Asks for a sync soon. */
  request(): void {
    if (this.stopped) return;
    this.dirty = true;
    if (this.timer !== undefined || this.running !== undefined) return;
    const wait = Math.max(0, this.lastStart + this.minIntervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.runOnce().finally(() => {
        this.running = undefined;
        if (this.dirty) this.request();
      });
    }, wait);
  }

  private async runOnce(): Promise<void> {
    this.dirty = false;
    this.lastStart = Date.now();
    try {
      await this.syncOnce();
    } catch (e) {
      this.dirty = true;
      this.onError(e);
    }
  }

  /** Stops scheduling; waits for a running sync. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
