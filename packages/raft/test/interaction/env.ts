// The world an interaction script acts on: RawNodes over MemoryStorages, and one queue of
// messages in flight that moves only when a script says so (deliver-msgs, stabilize). Each
// command has one handler, below, in HANDLERS. A node's Ready is handled as a real driver must:
// persist the snapshot, entries and hard state; queue the messages; apply the committed
// entries (conf changes through applyConfChange); advance.
//
// A leader that must send a snapshot asks its Storage for one; here the answer is a snapshot
// of the node's state machine as of its applied index, made on demand (as etcd-io/raft's
// interaction environment does), so that it carries the configuration in force. What
// MemoryStorage itself holds as its snapshot is what `compact` made, and what a restart reads.
//
// Election timeouts are not randomized here (the random source always answers 0), so a
// follower campaigns on exactly the electionTick-th tick without news of a leader: scripts
// read plainly, and `tick-election` means "an election timeout passes".

import {
  type Config,
  type ConfState,
  isRaftError,
  MESSAGE_TYPES,
  MemoryStorage,
  type Message,
  type MessageType,
  type NodeId,
  RaftError,
  RawNode,
  type ReadOnlyOption,
  type Snapshot,
  type Storage,
} from "../../src/index.js";
import { decodeConfChange } from "../../src/wire-codec.js";
import { type Arg, ScriptError } from "./datadriven.js";
import {
  describeConfState,
  describeEntry,
  describeMessage,
  describeProgress,
  describeReady,
  text,
} from "./format.js";

type NodeOptions = Omit<Config, "id" | "storage" | "random" | "applied">;

/** The state machine as of one applied index, so `compact` can snapshot any applied index. */
interface AppliedState {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
  readonly data: readonly string[];
}

interface Node {
  readonly id: NodeId;
  rawNode: RawNode;
  readonly storage: MemoryStorage;
  readonly options: NodeOptions;
  /** The test state machine: the payloads of applied normal entries, in order. */
  data: string[];
  confState: ConfState;
  /** One state per applied index, oldest first, from the latest snapshot on. */
  history: AppliedState[];
}

const encoder = new TextEncoder();

function encodeSnapshotData(data: readonly string[]): Uint8Array {
  return encoder.encode(JSON.stringify(data));
}

function decodeSnapshotData(b: Uint8Array): string[] {
  if (b.length === 0) return [];
  const v: unknown = JSON.parse(text(b));
  if (!Array.isArray(v)) throw new Error("snapshot data is not a JSON array");
  return v.map(String);
}

/** MemoryStorage, except that snapshot() describes the node's state machine as it is now. */
class SnapshotOnDemandStorage implements Storage {
  constructor(
    private readonly mem: MemoryStorage,
    private readonly current: () => AppliedState | undefined,
  ) {}

  initialState() {
    return this.mem.initialState();
  }

  entries(lo: number, hi: number, maxSize: number) {
    return this.mem.entries(lo, hi, maxSize);
  }

  term(i: number): number {
    return this.mem.term(i);
  }

  lastIndex(): number {
    return this.mem.lastIndex();
  }

  firstIndex(): number {
    return this.mem.firstIndex();
  }

  snapshot(): Snapshot {
    const st = this.current();
    if (st === undefined || st.index === 0) return this.mem.snapshot();
    return {
      data: encodeSnapshotData(st.data),
      metadata: { index: st.index, term: st.term, confState: st.confState },
    };
  }
}

/** One parsed command, with accessors that name the argument and the fix when it is wrong. */
export class Command {
  private readonly used = new Set<number>();

  constructor(
    readonly name: string,
    private readonly args: readonly Arg[],
    readonly input: readonly string[],
    private readonly where: { file: string; line: number },
  ) {}

  fail(message: string): never {
    throw new ScriptError(this.where.file, this.where.line, `${this.name}: ${message}`);
  }

  /** The bare words after the command name (`campaign 1` → ["1"]). */
  positional(): string[] {
    const out: string[] = [];
    this.args.forEach((a, i) => {
      if (a.values.length === 0 && !a.key.includes("=")) {
        this.used.add(i);
        out.push(a.key);
      }
    });
    return out;
  }

  private find(key: string): Arg | undefined {
    const i = this.args.findIndex((a) => a.key === key && a.values.length > 0);
    if (i < 0) return undefined;
    this.used.add(i);
    return this.args[i];
  }

  int(word: string, what: string): number {
    const n = Number(word);
    if (!Number.isSafeInteger(n) || n < 0)
      this.fail(`${what} "${word}" is not a non-negative integer`);
    return n;
  }

  optInt(key: string): number | undefined {
    const a = this.find(key);
    if (a === undefined) return undefined;
    if (a.values.length !== 1) this.fail(`${key} takes one number, e.g. ${key}=3`);
    return this.int(a.values[0] ?? "", key);
  }

  reqInt(key: string): number {
    const n = this.optInt(key);
    if (n === undefined) this.fail(`missing ${key}=N`);
    return n;
  }

  ids(key: string): NodeId[] | undefined {
    const a = this.find(key);
    return a?.values.map((v) => this.int(v, key));
  }

  optBool(key: string): boolean | undefined {
    const a = this.find(key);
    if (a === undefined) return undefined;
    const v = a.values[0];
    if (a.values.length !== 1 || (v !== "true" && v !== "false"))
      this.fail(`${key} must be true or false`);
    return v === "true";
  }

  optString(key: string): string | undefined {
    const a = this.find(key);
    if (a === undefined) return undefined;
    if (a.values.length !== 1) this.fail(`${key} takes one value`);
    return a.values[0];
  }

  /** Fails on any argument no accessor asked for: a typo must not pass silently. */
  done(): void {
    const unused = this.args.filter((_, i) => !this.used.has(i));
    if (unused.length > 0) {
      this.fail(`unknown argument(s) ${unused.map((a) => a.key).join(", ")}`);
    }
    if (this.input.length > 0) this.fail("takes no input lines");
  }
}

type Handler = (env: InteractionEnv, cmd: Command) => void;

export class InteractionEnv {
  readonly nodes = new Map<NodeId, Node>();
  /** Messages sent and not yet delivered or dropped, in the order they were sent. */
  messages: Message[] = [];
  readonly isolated = new Set<NodeId>();
  /** Whether Ready.events are printed ("info") or not ("none"). */
  logLevel: "info" | "none" = "info";
  private out: string[] = [];

  /** Runs one command and returns its output. RaftErrors (other than broken invariants) are output. */
  run(cmd: Command): string {
    this.out = [];
    const handler = HANDLERS[cmd.name];
    if (handler === undefined) {
      cmd.fail(`unknown command; known ones: ${Object.keys(HANDLERS).join(", ")}`);
    }
    try {
      handler(this, cmd);
    } catch (e) {
      if (!printable(e)) throw e;
      this.print(`error: ${e.message} (${e.reason})`);
    }
    if (this.out.length === 0) this.out.push("ok");
    return this.out.join("\n");
  }

  print(...lines: string[]): void {
    this.out.push(...lines);
  }

  ids(): NodeId[] {
    return [...this.nodes.keys()].sort((a, b) => a - b);
  }

  node(cmd: Command, word: string | undefined): Node {
    if (word === undefined) cmd.fail("missing the node id");
    const n = this.nodes.get(cmd.int(word, "node id"));
    if (n === undefined) cmd.fail(`no node ${word}; nodes are ${this.ids().join(", ")}`);
    return n;
  }

  /** The nodes named by the positional arguments, or all of them when there are none. */
  nodesOf(cmd: Command): Node[] {
    const words = cmd.positional();
    return words.length === 0
      ? this.ids().map((id) => this.node(cmd, String(id)))
      : words.map((w) => this.node(cmd, w));
  }

  /** Starts a node over `storage`, its state machine restored from the storage's snapshot. */
  addNode(id: NodeId, storage: MemoryStorage, options: NodeOptions): Node {
    const snap = storage.snapshot();
    const applied = snap.metadata.index;
    const data = decodeSnapshotData(snap.data);
    const confState = snap.metadata.confState;
    const history = [{ index: applied, term: snap.metadata.term, confState, data: [...data] }];
    let node: Node | undefined;
    const onDemand = new SnapshotOnDemandStorage(
      storage,
      () => node?.history[node.history.length - 1],
    );
    const rawNode = new RawNode({ ...options, id, storage: onDemand, random: () => 0, applied });
    node = { id, rawNode, storage, options, data, confState, history };
    this.nodes.set(id, node);
    return node;
  }

  /** Handles one Ready of `n`, printing it; returns false when there was none. */
  processReady(n: Node): boolean {
    if (!n.rawNode.hasReady()) return false;
    const rd = n.rawNode.ready();
    this.print(`> ${n.id} handling Ready`);
    const lines = describeReady(rd, this.logLevel === "info");
    if (rd.snapshot !== undefined) {
      const snap = rd.snapshot;
      n.storage.applySnapshot(snap);
      n.data = decodeSnapshotData(snap.data);
      n.confState = snap.metadata.confState;
      n.history = [
        {
          index: snap.metadata.index,
          term: snap.metadata.term,
          confState: n.confState,
          data: [...n.data],
        },
      ];
    }
    n.storage.append(rd.entries);
    if (rd.hardState !== undefined) n.storage.setHardState(rd.hardState);
    this.messages.push(...rd.messages);
    for (const e of rd.committedEntries) {
      if (e.type === "EntryConfChange") {
        try {
          n.confState = n.rawNode.applyConfChange(decodeConfChange(e.data));
        } catch (err) {
          if (!printable(err)) throw err;
          lines.push(`error applying ${describeEntry(e)}: ${err.message} (${err.reason})`);
        }
      } else if (e.data.length > 0) {
        n.data.push(text(e.data));
      }
      n.history.push({ index: e.index, term: e.term, confState: n.confState, data: [...n.data] });
    }
    n.rawNode.advance(rd);
    this.print(...lines.map((l) => `  ${l}`));
    return true;
  }

  /**
   * Delivers (or drops) the queued messages to `to` that `pick` selects, in order. Messages
   * from or to an isolated node are dropped. Returns whether any message was taken.
   */
  deliver(to: Node, pick: (m: Message) => boolean, drop: boolean): boolean {
    const take = this.messages.filter((m) => m.to === to.id && pick(m));
    if (take.length === 0) return false;
    this.messages = this.messages.filter((m) => !(m.to === to.id && pick(m)));
    this.print(drop ? `> dropping messages to ${to.id}` : `> ${to.id} receiving messages`);
    for (const m of take) {
      if (drop || this.isolated.has(m.from) || this.isolated.has(m.to)) {
        this.print(`  dropped: ${describeMessage(m)}`);
        continue;
      }
      this.print(`  ${describeMessage(m)}`);
      try {
        to.rawNode.step(m);
      } catch (e) {
        if (!printable(e)) throw e;
        this.print(`  error: ${e.message} (${e.reason})`);
      }
    }
    return true;
  }

  /** Messages to nodes that do not exist (any more) have nowhere to go. */
  dropUndeliverable(): void {
    const gone = this.messages.filter((m) => !this.nodes.has(m.to));
    if (gone.length === 0) return;
    this.messages = this.messages.filter((m) => this.nodes.has(m.to));
    this.print(
      "> dropping messages to unknown nodes",
      ...gone.map((m) => `  dropped: ${describeMessage(m)}`),
    );
  }
}

/** A RaftError the script should see as output; a broken invariant is a failure instead. */
function printable(e: unknown): e is RaftError {
  return e instanceof RaftError && !isRaftError(e, "invariant-violated");
}

function tick(env: InteractionEnv, cmd: Command, ticksOf: (o: NodeOptions) => number): void {
  const [id, count] = cmd.positional();
  const n = env.node(cmd, id);
  const times = count === undefined ? 1 : cmd.int(count, "count");
  cmd.done();
  for (let i = 0; i < times * ticksOf(n.options); i++) n.rawNode.tick();
}

function parseConfChange(cmd: Command, word: string) {
  const m = /^([vlr])(\d+)$/.exec(word);
  if (m === null)
    cmd.fail(`"${word}" is not a conf change: use v4 (add voter), l4 (add learner), r4 (remove)`);
  const nodeId = cmd.int(m[2] ?? "", "conf change node id");
  const type = m[1] === "v" ? "AddNode" : m[1] === "l" ? "AddLearnerNode" : "RemoveNode";
  return { type, nodeId, context: new Uint8Array(0) } as const;
}

const READ_ONLY_OPTIONS: readonly ReadOnlyOption[] = ["safe", "lease-based"];

const HANDLERS: Record<string, Handler> = {
  /**
   * add-nodes N [voters=(1,2,3)] [learners=(4)] [index=I] [pre-vote=true] [check-quorum=true]
   *   [election-tick=3] [heartbeat-tick=1] [max-inflight-msgs=256] [read-only=safe|lease-based]
   *   [step-down-on-removal=true] [disable-proposal-forwarding=false]
   * Adds N nodes with the next free ids. With voters/learners they start in that configuration,
   * as of a snapshot at index I (term 1) when index is given, else at index 0. Without, they
   * start empty, to be added by a conf change and caught up by a snapshot.
   */
  "add-nodes": (env: InteractionEnv, cmd: Command) => {
    const [count, ...extra] = cmd.positional();
    if (count === undefined || extra.length > 0) cmd.fail("usage: add-nodes N [voters=(...)] ...");
    const n = cmd.int(count, "N");
    const voters = cmd.ids("voters") ?? [];
    const learners = cmd.ids("learners") ?? [];
    const index = cmd.optInt("index") ?? 0;
    const readOnly = cmd.optString("read-only") ?? "safe";
    if (!READ_ONLY_OPTIONS.some((o) => o === readOnly))
      cmd.fail("read-only must be safe or lease-based");
    const options: NodeOptions = {
      electionTick: cmd.optInt("election-tick") ?? 3,
      heartbeatTick: cmd.optInt("heartbeat-tick") ?? 1,
      maxInflightMsgs: cmd.optInt("max-inflight-msgs") ?? 256,
      // etcd's test defaults: both off unless a script asks (the product defaults are on).
      preVote: cmd.optBool("pre-vote") ?? false,
      checkQuorum: cmd.optBool("check-quorum") ?? false,
      readOnlyOption: readOnly === "lease-based" ? "lease-based" : "safe",
      stepDownOnRemoval: cmd.optBool("step-down-on-removal") ?? true,
      disableProposalForwarding: cmd.optBool("disable-proposal-forwarding") ?? false,
    };
    cmd.done();
    if (index > 0 && voters.length === 0)
      cmd.fail("index= needs voters=(...) to put in the snapshot");
    for (let i = 0; i < n; i++) {
      const id = env.ids().length === 0 ? 1 : Math.max(...env.ids()) + 1;
      let storage: MemoryStorage;
      if (voters.length === 0) {
        storage = new MemoryStorage();
      } else if (index === 0) {
        storage = MemoryStorage.withPeers(voters, learners);
      } else {
        storage = new MemoryStorage();
        storage.applySnapshot({
          data: encodeSnapshotData([]),
          metadata: { index, term: 1, confState: { voters, learners } },
        });
      }
      const node = env.addNode(id, storage, options);
      const st = node.rawNode.status();
      env.print(
        `${id}: Term:${st.term} Commit:${st.commit} Applied:${st.applied} LastIndex:${st.lastIndex} ${describeConfState(st.config)}`,
      );
    }
  },

  /** campaign ID: the node starts an election now (a pre-vote first if enabled). */
  campaign: (env: InteractionEnv, cmd: Command) => {
    const n = env.node(cmd, cmd.positional()[0]);
    cmd.done();
    n.rawNode.campaign();
  },

  /** propose ID DATA */
  propose: (env: InteractionEnv, cmd: Command) => {
    const [id, data, ...extra] = cmd.positional();
    if (data === undefined || extra.length > 0) cmd.fail("usage: propose ID DATA");
    const n = env.node(cmd, id);
    cmd.done();
    n.rawNode.propose(encoder.encode(data));
  },

  /** propose-conf-change ID CHANGE: v4 adds voter 4 (or promotes it), l4 adds learner 4, r4 removes 4. */
  "propose-conf-change": (env: InteractionEnv, cmd: Command) => {
    const [id, change, ...extra] = cmd.positional();
    if (change === undefined || extra.length > 0)
      cmd.fail("usage: propose-conf-change ID v4|l4|r4");
    const n = env.node(cmd, id);
    const cc = parseConfChange(cmd, change);
    cmd.done();
    n.rawNode.proposeConfChange(cc);
  },

  /** tick-heartbeat ID [COUNT]: COUNT heartbeat intervals (heartbeat-tick ticks each) pass. */
  "tick-heartbeat": (env: InteractionEnv, cmd: Command) => tick(env, cmd, (o) => o.heartbeatTick),

  /** tick-election ID [COUNT]: COUNT election timeouts (election-tick ticks each) pass. */
  "tick-election": (env: InteractionEnv, cmd: Command) => tick(env, cmd, (o) => o.electionTick),

  /** process-ready [IDs]: handles one Ready of each node named (default: all) that has one. */
  "process-ready": (env: InteractionEnv, cmd: Command) => {
    const nodes = env.nodesOf(cmd);
    cmd.done();
    for (const n of nodes) {
      if (!env.processReady(n)) env.print(`> ${n.id}: no Ready`);
    }
  },

  /**
   * deliver-msgs [IDs] [type=MsgApp] [drop=(IDs)]: delivers the queued messages to the nodes
   * named (default: all), or only those of one type; drop=(...) drops those to the nodes given.
   */
  "deliver-msgs": (env: InteractionEnv, cmd: Command) => {
    const drop = cmd.ids("drop");
    const type = cmd.optString("type");
    if (type !== undefined && !MESSAGE_TYPES.some((t) => t === type)) {
      cmd.fail(`type=${type} is not a message type (e.g. MsgApp, MsgVote)`);
    }
    const pick = (m: Message): boolean => type === undefined || m.type === (type as MessageType);
    if (drop !== undefined) {
      if (cmd.positional().length > 0) cmd.fail("give either node ids to deliver to or drop=(...)");
      cmd.done();
      for (const id of drop) env.deliver(env.node(cmd, String(id)), pick, true);
      return;
    }
    const nodes = env.nodesOf(cmd);
    cmd.done();
    env.dropUndeliverable();
    let any = false;
    for (const n of nodes) any = env.deliver(n, pick, false) || any;
    if (!any) env.print("no messages");
  },

  /**
   * stabilize [IDs]: until nothing moves, handle every Ready of the nodes named (default: all),
   * then deliver the messages queued to them.
   */
  stabilize: (env: InteractionEnv, cmd: Command) => {
    const nodes = env.nodesOf(cmd);
    cmd.done();
    for (let round = 0; ; round++) {
      if (round > 1000) cmd.fail("the group did not settle within 1000 rounds");
      let moved = false;
      for (const n of nodes) {
        while (env.processReady(n)) moved = true;
      }
      env.dropUndeliverable();
      for (const n of nodes) moved = env.deliver(n, () => true, false) || moved;
      if (!moved) return;
    }
  },

  /** status ID: the node's state, and on a leader each member's progress. */
  status: (env: InteractionEnv, cmd: Command) => {
    const n = env.node(cmd, cmd.positional()[0]);
    cmd.done();
    const st = n.rawNode.status();
    env.print(
      `${st.id}: ${st.role} Term:${st.term} Vote:${st.vote} Lead:${st.lead} Commit:${st.commit} Applied:${st.applied} LastIndex:${st.lastIndex}` +
        (st.leadTransferee !== 0 ? ` Transferee:${st.leadTransferee}` : ""),
      describeConfState(st.config),
    );
    for (const [id, pr] of [...st.progress].sort(([a], [b]) => a - b))
      env.print(describeProgress(id, pr));
  },

  /** raft-log ID: the entries in the node's stable storage. */
  "raft-log": (env: InteractionEnv, cmd: Command) => {
    const n = env.node(cmd, cmd.positional()[0]);
    cmd.done();
    printLog(env, n);
  },

  /** state-machine ID: what the node's state machine holds: applied index and payloads. */
  "state-machine": (env: InteractionEnv, cmd: Command) => {
    const n = env.node(cmd, cmd.positional()[0]);
    cmd.done();
    const last = n.history[n.history.length - 1];
    env.print(`Applied:${last?.index ?? 0} ${JSON.stringify(n.data)}`);
  },

  /** raft-state: one line per node: role, membership, term and leader. */
  "raft-state": (env: InteractionEnv, cmd: Command) => {
    cmd.done();
    for (const id of env.ids()) {
      const n = env.node(cmd, String(id));
      const st = n.rawNode.status();
      const kind = st.config.voters.includes(id)
        ? "voter"
        : st.config.learners.includes(id)
          ? "learner"
          : "non-member";
      const iso = env.isolated.has(id) ? " isolated" : "";
      env.print(`${id}: ${st.role} (${kind}) Term:${st.term} Lead:${st.lead}${iso}`);
    }
  },

  /** transfer-leadership from=ID to=ID: asks node `from` to hand leadership to `to`. */
  "transfer-leadership": (env: InteractionEnv, cmd: Command) => {
    const from = env.node(cmd, String(cmd.reqInt("from")));
    const to = cmd.reqInt("to");
    cmd.done();
    from.rawNode.transferLeader(to);
  },

  /** read-index ID CTX: a linearizable read request with context CTX. */
  "read-index": (env: InteractionEnv, cmd: Command) => {
    const [id, ctx, ...extra] = cmd.positional();
    if (ctx === undefined || extra.length > 0) cmd.fail("usage: read-index ID CTX");
    const n = env.node(cmd, id);
    cmd.done();
    n.rawNode.readIndex(encoder.encode(ctx));
  },

  /** isolate ID: every message from or to the node is dropped when delivered, until recover. */
  isolate: (env: InteractionEnv, cmd: Command) => {
    const n = env.node(cmd, cmd.positional()[0]);
    cmd.done();
    env.isolated.add(n.id);
  },

  /** recover: ends all isolation. */
  recover: (env: InteractionEnv, cmd: Command) => {
    cmd.done();
    env.isolated.clear();
  },

  /**
   * compact ID INDEX: snapshots the node's state machine as of applied index INDEX and drops
   * the log up to it; prints the log that is left.
   */
  compact: (env: InteractionEnv, cmd: Command) => {
    const [id, at, ...extra] = cmd.positional();
    if (at === undefined || extra.length > 0) cmd.fail("usage: compact ID INDEX");
    const n = env.node(cmd, id);
    const index = cmd.int(at, "INDEX");
    cmd.done();
    const state = n.history.find((h) => h.index === index);
    if (state === undefined) {
      const last = n.history[n.history.length - 1]?.index ?? 0;
      cmd.fail(`node ${n.id} has not applied index ${index} (applied up to ${last})`);
    }
    n.storage.createSnapshot(index, state.confState, encodeSnapshotData(state.data));
    n.storage.compact(index);
    n.history = n.history.filter((h) => h.index >= index);
    printLog(env, n);
  },

  /**
   * restart ID: the node crashes and comes back from its storage. What it had not persisted is
   * lost (an unhandled Ready); messages already sent stay in flight. Its state machine restarts
   * from the snapshot, and committed entries after it are applied again.
   */
  restart: (env: InteractionEnv, cmd: Command) => {
    const n = env.node(cmd, cmd.positional()[0]);
    cmd.done();
    const node = env.addNode(n.id, n.storage, n.options);
    const st = node.rawNode.status();
    env.print(
      `${n.id}: Term:${st.term} Vote:${st.vote} Commit:${st.commit} Applied:${st.applied} LastIndex:${st.lastIndex} ${describeConfState(st.config)}`,
    );
  },

  /** report-unreachable ID PEER: node ID's transport could not reach PEER. */
  "report-unreachable": (env: InteractionEnv, cmd: Command) => {
    const [id, peer, ...extra] = cmd.positional();
    if (peer === undefined || extra.length > 0) cmd.fail("usage: report-unreachable ID PEER");
    const n = env.node(cmd, id);
    const p = cmd.int(peer, "PEER");
    cmd.done();
    n.rawNode.reportUnreachable(p);
  },

  /** forget-leader ID: the node drops its leader (its stream to the leader broke). */
  "forget-leader": (env: InteractionEnv, cmd: Command) => {
    const n = env.node(cmd, cmd.positional()[0]);
    cmd.done();
    n.rawNode.forgetLeader();
  },

  /** log-level info|none: whether Ready.events (the core's log) are printed. */
  "log-level": (env: InteractionEnv, cmd: Command) => {
    const [level, ...extra] = cmd.positional();
    if ((level !== "info" && level !== "none") || extra.length > 0)
      cmd.fail("usage: log-level info|none");
    cmd.done();
    env.logLevel = level;
  },
};

function printLog(env: InteractionEnv, n: Node): void {
  const first = n.storage.firstIndex();
  const last = n.storage.lastIndex();
  if (last < first) {
    env.print(`log is empty: first index=${first}, last index=${last}`);
    return;
  }
  for (const e of n.storage.entries(first, last + 1, Number.MAX_SAFE_INTEGER))
    env.print(describeEntry(e));
}
