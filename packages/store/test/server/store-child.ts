// A StoreServer in a process of its own, for fast-failover.test.ts, so that the test can
// SIGKILL it and its peers see its connections reset as when a real member dies.
//   argv: <name> <data dir> <cluster token> <heartbeat ms> <election ms>
// It binds its peer listener and prints "peer <url>", reads the initial cluster as one JSON
// line on stdin, starts, and prints "ready <member id>". Then it runs until killed; a line
// "campaign" on stdin makes it start an election.

import { createInterface } from "node:readline";
import { startEtcdGrpcServer } from "../../src/api/index.js";
import { type InitialMember, listenPeer, StoreServer } from "../../src/server/index.js";

const [name, dataDir, token, heartbeat, election] = process.argv.slice(2);
if (!name || !dataDir || !token || !heartbeat || !election) {
  console.error("usage: store-child.ts <name> <data dir> <token> <heartbeat ms> <election ms>");
  process.exit(2);
}
const peer = await listenPeer("http://127.0.0.1:0");
console.log(`peer ${peer.url}`);
const lines = createInterface({ input: process.stdin });
const first: string = await new Promise((resolve) => lines.once("line", resolve));
const initialCluster = JSON.parse(first) as InitialMember[];
const server = await StoreServer.start({
  name,
  dataDir,
  peer,
  initialCluster,
  initialClusterToken: token,
  heartbeatMs: Number(heartbeat),
  electionMs: Number(election),
});
const grpc = await startEtcdGrpcServer({ backend: server, listen: "127.0.0.1:0" });
server.setClientUrls([`http://127.0.0.1:${grpc.port}`]);
console.log(`ready ${server.memberId}`);
lines.on("line", (line) => {
  if (line === "campaign") server.campaign();
});
