// A member in a process of its own, for peer-process.test.ts: runs a Transport with id
// argv[2] that streams to member argv[3] at argv[4], sends it a heartbeat every 50 ms, and
// prints "ready <its own peer URL>" once its stream is up. The test stops (SIGSTOP) or kills
// (SIGKILL) it.

import { message } from "@tug/raft";
import { Transport } from "../../src/transport/index.js";

const [idArg, peerArg, peerUrl] = process.argv.slice(2);
const id = Number(idArg);
const peer = Number(peerArg);
if (!peerUrl || !Number.isSafeInteger(id) || !Number.isSafeInteger(peer)) {
  console.error("usage: peer-child.ts <id> <peer id> <peer url>");
  process.exit(2);
}

const transport = new Transport({
  id,
  clusterId: 0x1fn,
  onMessage: () => {},
  onSnapshot: async () => {},
});
transport.addPeer(peer, peerUrl);
const ownUrl = await transport.listen("http://127.0.0.1:0");
let said = false;
setInterval(() => {
  transport.send([message({ type: "MsgHeartbeat", from: id, to: peer, term: 1 })]);
  if (!said && transport.peerStats(peer)?.connected) {
    said = true;
    console.log(`ready ${ownUrl}`);
  }
}, 50);
