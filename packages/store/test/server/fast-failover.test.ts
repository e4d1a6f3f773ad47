// Fast failover: the leader's process dies (SIGKILL), its streams to the followers break, and
// they elect a new leader at once instead of waiting out the election timeout. The election
// timeout here is a minute, longer than the test's own timeout: a new leader can only come in
// time by the fast path, so the test fails rather than asserting a duration. It prints the
// measured gap.

import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, expect, it } from "vitest";
import { listenPeer } from "../../src/server/index.js";
import { startMember, stopAll, type TestMember, tempDir, until } from "./harness.js";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, "../../../..");
const HEARTBEAT = 100;
const ELECTION = 60_000;
/** How often the test repeats its campaign request until the child leads. */
const CAMPAIGN_RETRY_MS = 1000;

const children: ChildProcess[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  }
  await stopAll();
});

/** Starts store-child.ts; resolves with it once it printed its peer URL. */
function spawnChild(name: string, dataDir: string, token: string) {
  const child = spawn(
    process.execPath,
    [
      "--conditions=source",
      "--import",
      "tsx",
      join(here, "store-child.ts"),
      name,
      dataDir,
      token,
      String(HEARTBEAT),
      String(ELECTION),
    ],
    { cwd: repoRoot, stdio: ["pipe", "pipe", "inherit"] },
  );
  children.push(child);
  let out = "";
  const waitFor = (re: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const m = re.exec(out);
        if (m?.[1]) resolve(m[1]);
      };
      child.stdout?.on("data", (b: Buffer) => {
        out += b.toString();
        check();
      });
      child.once("exit", (code, signal) =>
        reject(new Error(`store-child exited (code ${code}, signal ${signal}): ${out}`)),
      );
      check();
    });
  return { child, peerUrl: waitFor(/peer (\S+)\n/), ready: waitFor(/ready (\d+)\n/) };
}

it("followers elect a new leader as soon as the leader's process dies", async () => {
  const base = await tempDir();
  const token = "fast-failover";
  const c = spawnChild("m3", join(base, "m3"), token);
  const peers = await Promise.all([
    listenPeer("http://127.0.0.1:0"),
    listenPeer("http://127.0.0.1:0"),
  ]);
  const initialCluster = [
    { name: "m1", peerUrls: [peers[0].url] },
    { name: "m2", peerUrls: [peers[1].url] },
    { name: "m3", peerUrls: [await c.peerUrl] },
  ];
  c.child.stdin?.write(`${JSON.stringify(initialCluster)}\n`);
  const brokenStreams: string[] = [];
  const options = {
    initialClusterToken: token,
    heartbeatMs: HEARTBEAT,
    electionMs: ELECTION,
    logger: {
      log: (_level: string, msg: string) => {
        if (msg.startsWith("the stream from the leader broke")) brokenStreams.push(msg);
      },
    },
  };
  const followers: TestMember[] = await Promise.all(
    peers.map((p, i) =>
      startMember(`m${i + 1}`, join(base, `m${i + 1}`), p, initialCluster, options),
    ),
  );
  const childId = Number(await c.ready);
  const [m1, m2] = followers as [TestMember, TestMember];

  // No election timeout will pass in this test: the first leader comes from a campaign, by
  // the member the test can kill.
  // The campaign's (pre-)vote requests are lost if a peer stream is still connecting (a loaded
  // machine), and with a one-minute election timeout nothing would retry: ask again each second.
  let lastCampaign = 0;
  await until(() => {
    if (m1.server.leader === childId && m2.server.leader === childId) return true;
    if (performance.now() - lastCampaign > CAMPAIGN_RETRY_MS) {
      lastCampaign = performance.now();
      c.child.stdin?.write("campaign\n");
    }
    return false;
  });
  await m1.client.put("before").value("kill");
  await m2.client.put("under").value("child");

  const killedAt = performance.now();
  c.child.kill("SIGKILL");
  await until(() => {
    const lead = m1.server.leader;
    return lead !== 0 && lead !== childId && m2.server.leader === lead;
  });
  const gapMs = performance.now() - killedAt;
  expect(brokenStreams.length).toBeGreaterThan(0);
  const next = m1.server.isLeader ? m1 : m2;
  await next.client.put("after").value("kill");
  const other = next === m1 ? m2 : m1;
  expect(await other.client.get("under").string()).toBe("child");
  expect(await other.client.get("after").string()).toBe("kill");
  console.log(
    `fast failover: new leader ${gapMs.toFixed(0)} ms after SIGKILL of the leader (heartbeat ${HEARTBEAT} ms, election timeout ${ELECTION} ms)`,
  );
}, 30_000);
