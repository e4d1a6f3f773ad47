// The localnet guard (kube-proxy's "block incoming localnet connections") in a network
// namespace of its own: installed once however often applied, removed without a trace.
// Needs root (ip netns); fails, never skips, without it.

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectIptables, hostCommand } from "../../src/network/host-command.js";
import {
  FIREWALL_CHAIN,
  installLocalnetGuard,
  removeLocalnetGuard,
} from "../../src/network/localnet-guard.js";

const exec = promisify(execFile);
const NS = `tuglg-${process.pid}`;
const run = hostCommand(NS);

beforeAll(async () => {
  await exec("ip", ["netns", "add", NS]);
});
afterAll(async () => {
  await exec("ip", ["netns", "del", NS]).catch(() => undefined);
});

async function filterRules(): Promise<string[]> {
  const t = await detectIptables(run);
  return (await run([t.save, "-t", "filter"])).split("\n").filter((l) => l.includes("TUG-"));
}

describe("localnet guard", () => {
  it("drops outside packets to 127.0.0.0/8, installed once, removed entirely", async () => {
    await installLocalnetGuard(run);
    await installLocalnetGuard(run);
    const rules = await filterRules();
    expect(rules.filter((r) => r === `-A INPUT -j ${FIREWALL_CHAIN}`)).toHaveLength(1);
    expect(rules.filter((r) => r === `-A OUTPUT -j ${FIREWALL_CHAIN}`)).toHaveLength(1);
    expect(rules.find((r) => r.startsWith(`-A ${FIREWALL_CHAIN}`))).toMatch(
      /! -s 127\.0\.0\.0\/8 -d 127\.0\.0\.0\/8 .*block incoming localnet connections.*! --ctstate RELATED,ESTABLISHED,DNAT -j DROP/,
    );
    await removeLocalnetGuard(run);
    await removeLocalnetGuard(run);
    expect(await filterRules()).toEqual([]);
  });
});
