// Paper tests for Raft §5.4: the election restriction (§5.4.1) and committing entries from
// previous terms (§5.4.2, with the scenario of Figure 8), after etcd-io/raft's
// raft_paper_test.go. Pre-vote and check-quorum are off, as in the paper.

import { describe, expect, it } from "vitest";
import { type Entry, MemoryStorage, type Message, message } from "../../src/index.js";
import { Network } from "../support/network.js";
import { elect, logOfTerms, ofType, Peer, shape, storedLog } from "./support.js";

describe("Raft §5.4.1: election restriction", () => {
  it.each([{ terms: [1] }, { terms: [1, 2] }, { terms: [1, 1, 3] }])(
    "the RequestVote RPC includes information about the candidate's log: the index and term of its last entry (§5.4.1): log of terms $terms",
    ({ terms }) => {
      const last = terms.length;
      const lastTerm = terms[last - 1] ?? 0;
      const p = new Peer(1, {
        voters: [1, 2, 3],
        log: logOfTerms(...terms),
        hardState: { term: lastTerm },
      });
      p.node.campaign();
      expect(ofType(p.drain().messages, "MsgVote")).toEqual([
        expect.objectContaining({ to: 2, term: lastTerm + 1, index: last, logTerm: lastTerm }),
        expect.objectContaining({ to: 3, term: lastTerm + 1, index: last, logTerm: lastTerm }),
      ]);
    },
  );

  // The voter's log, and the candidate's last entry (index, term).
  const ballots = [
    { voter: [1], last: [1, 1], granted: true, why: "same last term, same length" },
    { voter: [1], last: [2, 1], granted: true, why: "same last term, candidate longer" },
    { voter: [1, 1], last: [1, 1], granted: false, why: "same last term, voter longer" },
    { voter: [1], last: [1, 2], granted: true, why: "candidate's last term later" },
    { voter: [1], last: [2, 2], granted: true, why: "candidate's last term later and longer" },
    {
      voter: [1, 1],
      last: [1, 2],
      granted: true,
      why: "candidate's last term later, voter longer",
    },
    { voter: [2], last: [1, 1], granted: false, why: "voter's last term later" },
    { voter: [2], last: [2, 1], granted: false, why: "voter's last term later, candidate longer" },
    { voter: [1, 2], last: [1, 1], granted: false, why: "voter's last term later and longer" },
  ] as const;

  it.each(ballots)(
    "the voter denies its vote if its own log is more up-to-date than that of the candidate: the log with the later last term is more up-to-date, and with the same last term the longer log is (§5.4.1): $why",
    ({ voter, last, granted }) => {
      const p = new Peer(1, {
        voters: [1, 2, 3],
        log: logOfTerms(...voter),
        hardState: { term: Math.max(...voter) },
      });
      p.step({ type: "MsgVote", from: 2, term: 3, index: last[0], logTerm: last[1] });
      expect(p.drain().messages).toEqual([
        expect.objectContaining({ type: "MsgVoteResp", to: 2, term: 3, reject: !granted }),
      ]);
      expect(p.status().vote).toBe(granted ? 2 : 0);
    },
  );

  it("a candidate must contact a majority of the cluster in order to be elected, so a candidate whose log lacks a committed entry cannot win an election (§5.4.1)", () => {
    const net = Network.of([1, 2, 3]);
    net.campaign(1);
    net.isolate(3);
    net.propose(1, "committed");
    expect(net.node(2).applied).toEqual(["committed"]);
    net.recover();
    net.isolate(1);
    net.campaign(3);
    expect(net.raw(3).status().role).not.toBe("leader");
    net.campaign(2);
    expect(net.raw(2).status().role).toBe("leader");
    net.propose(2, "later");
    expect(net.node(3).applied).toEqual(["committed", "later"]);
  });
});

describe("Raft §5.4.2: committing entries from previous terms", () => {
  it.each([
    { ack: 1, commit: 0 },
    { ack: 2, commit: 0 },
    { ack: 3, commit: 3 },
  ])(
    "Raft never commits log entries from previous terms by counting replicas; only log entries from the leader's current term are committed by counting replicas (§5.4.2): acknowledged up to $ack → commit $commit",
    ({ ack, commit }) => {
      const p = new Peer(1, { voters: [1, 2, 3], log: logOfTerms(1, 2), hardState: { term: 2 } });
      elect(p); // term 3, with its no-op at index 3
      p.step({ type: "MsgAppResp", from: 2, term: 3, index: ack });
      p.drain();
      expect(p.status().commit).toBe(commit);
    },
  );

  /**
   * Builds Figure 8 up to (c): five servers whose logs start with entry 1 of term 1 (committed).
   * (a) S1 leads term 2 and replicates its index-2 entry to S2 only; (b) S1 crashes, S5 is
   * elected for term 3 by S3, S4 and itself and takes a different entry at index 2; (c) S5
   * crashes, S1 restarts, is elected for term 4 and replicates index 2 to S3, while its entry of
   * term 4 (index 3) reaches no one.
   */
  function figure8c(): Network {
    const ids = [1, 2, 3, 4, 5];
    const net = new Network();
    for (const id of ids) {
      const s = MemoryStorage.withPeers(ids);
      s.append(logOfTerms(1));
      s.setHardState({ term: 1, vote: 0, commit: 1 });
      net.add(id, s);
    }
    const terms = (id: number) => storedLog(net.node(id).storage).map((e) => e.term);

    // (a)
    net.filter = (m) => !(m.type === "MsgApp" && m.from === 1 && m.to !== 2);
    net.campaign(1);
    expect(net.raw(1).status()).toMatchObject({ role: "leader", term: 2, commit: 1 });
    expect(ids.map(terms)).toEqual([[1, 2], [1, 2], [1], [1], [1]]);

    // (b)
    net.isolate(1);
    net.filter = (m) => !(m.type === "MsgApp" && m.from === 5);
    net.campaign(5);
    expect(net.raw(5).status()).toMatchObject({ role: "leader", term: 3 });
    expect(ids.map(terms)).toEqual([[1, 2], [1, 2], [1], [1], [1, 3]]);

    // (c)
    net.recover();
    net.isolate(5);
    net.restart(1);
    const replicateIndex2: Message[] = [];
    net.filter = (m) => replicateIndex2.includes(m) || !(m.type === "MsgApp" && m.from === 1);
    net.campaign(1); // term 3: S3 and S4 already voted for S5
    net.campaign(1); // term 4
    expect(net.raw(1).status()).toMatchObject({ role: "leader", term: 4 });
    const entry2: Entry[] = storedLog(net.node(1).storage).slice(1, 2);
    for (const to of [2, 3]) {
      replicateIndex2.push(
        message({
          type: "MsgApp",
          from: 1,
          to,
          term: 4,
          index: 1,
          logTerm: 1,
          entries: entry2,
          commit: 1,
        }),
      );
    }
    net.send(replicateIndex2);
    expect(ids.map(terms)).toEqual([[1, 2, 4], [1, 2], [1, 2], [1], [1, 3]]);
    const progress = net.raw(1).status().progress;
    expect([2, 3].map((id) => progress.get(id)?.match)).toEqual([2, 2]);
    return net;
  }

  it("a leader cannot immediately conclude that an entry from a previous term is committed once it is stored on a majority of servers: such an entry can still be overwritten by a future leader (§5.4.2, Figure 8 (c)–(d))", () => {
    const net = figure8c();
    // (c): entry 2 of term 2 is on S1, S2 and S3, a majority, and yet it is not committed.
    expect(net.raw(1).status().commit).toBe(1);

    // (d): S1 crashes; S5 restarts and is elected with votes from S2, S3 and S4.
    net.filter = undefined;
    net.recover();
    net.isolate(1);
    net.restart(5);
    net.campaign(5); // term 4: S2, S3 and S4 voted for S1
    net.campaign(5); // term 5
    expect(net.raw(5).status()).toMatchObject({ role: "leader", term: 5, commit: 3 });
    for (const id of [2, 3, 4, 5]) {
      expect(storedLog(net.node(id).storage).map((e) => e.term)).toEqual([1, 3, 5]);
    }
    // S1 comes back and its entry of term 2 is overwritten too.
    net.recover();
    net.tickAll(1);
    expect(storedLog(net.node(1).storage).map((e) => e.term)).toEqual([1, 3, 5]);
    for (const id of net.ids()) {
      expect(shape(net.node(id).appliedEntries)).toEqual([
        { index: 1, term: 1 },
        { index: 2, term: 3 },
        { index: 3, term: 5 },
      ]);
    }
  });

  it("once an entry from the current term has been committed by counting replicas, all prior entries are committed indirectly because of the Log Matching Property (§5.4.2, Figure 8 (e))", () => {
    const net = figure8c();
    // (e): S1 replicates its entry of term 4 to S2 and S3 before crashing.
    net.filter = undefined;
    net.isolate(4);
    net.tick(1, 1); // a heartbeat; S2 and S3 answer and are sent entry 3
    expect(net.raw(1).status().commit).toBe(3);
    expect(shape(net.node(1).appliedEntries)).toEqual([
      { index: 1, term: 1 },
      { index: 2, term: 2 },
      { index: 3, term: 4 },
    ]);

    // S1 crashes: S5 cannot win, since S2 and S3 hold an entry of a later term.
    net.recover();
    net.isolate(1);
    net.restart(5);
    for (let i = 0; i < 3; i++) {
      net.campaign(5);
      expect(net.raw(5).status().role).not.toBe("leader");
    }
    net.campaign(2);
    expect(net.raw(2).status().role).toBe("leader");
    for (const id of [2, 3, 4, 5]) {
      expect(
        storedLog(net.node(id).storage)
          .map((e) => e.term)
          .slice(0, 3),
      ).toEqual([1, 2, 4]);
      expect(shape(net.node(id).appliedEntries).slice(0, 3)).toEqual([
        { index: 1, term: 1 },
        { index: 2, term: 2 },
        { index: 3, term: 4 },
      ]);
    }
  });
});
