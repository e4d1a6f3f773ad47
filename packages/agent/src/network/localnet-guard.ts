// The companion of route_localnet=1 (NodePorts on 127.0.0.1): with it set, the kernel would
// also route packets that arrive from another host addressed to 127.0.0.0/8, exposing services
// bound to loopback to the whole L2 segment (CVE-2020-8558). kube-proxy installs one rule
// against that, "block incoming localnet connections", in its KUBE-FIREWALL chain; tug's is
// TUG-FIREWALL, jumped to from INPUT and OUTPUT, and removed with the rest on cleanup.
// https://github.com/kubernetes/kubernetes/issues/90259

import { detectIptables, type HostCommand } from "./host-command.js";

export const FIREWALL_CHAIN = "TUG-FIREWALL";
const JUMP_FROM = ["INPUT", "OUTPUT"] as const;

/** `iptables-restore --noflush` input for the filter rule. */
export function localnetGuardRuleset(): string {
  return [
    "*filter",
    `:${FIREWALL_CHAIN} - [0:0]`,
    `-A ${FIREWALL_CHAIN} -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP`,
    "COMMIT",
    "",
  ].join("\n");
}

/** Installs the chain and its jumps (once each). Idempotent. */
export async function installLocalnetGuard(run: HostCommand): Promise<void> {
  const t = await detectIptables(run);
  await run([t.restore, "--noflush"], localnetGuardRuleset());
  for (const chain of JUMP_FROM) {
    const rule = ["-j", FIREWALL_CHAIN];
    const exists = await run([t.iptables, "-t", "filter", "-C", chain, ...rule])
      .then(() => true)
      .catch(() => false);
    if (!exists) await run([t.iptables, "-t", "filter", "-I", chain, "1", ...rule]);
  }
}

/** Removes the jumps and the chain. Safe to repeat. */
export async function removeLocalnetGuard(run: HostCommand): Promise<void> {
  const t = await detectIptables(run);
  for (const chain of JUMP_FROM) {
    for (;;) {
      const removed = await run([t.iptables, "-t", "filter", "-D", chain, "-j", FIREWALL_CHAIN])
        .then(() => true)
        .catch(() => false);
      if (!removed) break;
    }
  }
  const present = await run([t.iptables, "-t", "filter", "-S", FIREWALL_CHAIN])
    .then(() => true)
    .catch(() => false);
  if (!present) return;
  await run([t.iptables, "-t", "filter", "-F", FIREWALL_CHAIN]);
  await run([t.iptables, "-t", "filter", "-X", FIREWALL_CHAIN]);
}
