// Safety over many seeded runs: candidates crash, restart, get partitioned, and see latency and
// lost requests, yet no two leaders' tenures overlap on the shared fake clock; and once the
// faults stop, exactly one candidate leads.
import { describe, expect, it } from "vitest";
import { LeaderElector } from "../../src/leader-election/index.js";
import { FakeClock } from "../informer/support/fake-clock.js";
import { FakeLeaseClient, FakeLeaseStore, type NetworkModel } from "./support/fake-lease-store.js";
import { seededRandom } from "./support/rng.js";

/** Seeds to run; LEADER_ELECTION_SEED=<n> replays one. */
const SEEDS = process.env.LEADER_ELECTION_SEED
  ? [Number(process.env.LEADER_ELECTION_SEED)]
  : Array.from({ length: 150 }, (_, i) => i + 1);
const FAULTY_MS = 150_000;
const CALM_MS = 45_000;
const STEP_MS = 500;
/** Request latency each way stays well under LeaseDuration - RenewDeadline - RetryPeriod (3 s). */
const MAX_LATENCY_MS = 400;

interface Tenure {
  candidate: string;
  start: number;
  end: number;
}

interface Running {
  name: string;
  identity: string;
  client: FakeLeaseClient;
  stop: AbortController;
  elector: LeaderElector;
  done: Promise<void>;
}

async function simulate(
  seed: number,
): Promise<{ tenures: Tenure[]; trace: string[]; leaders: Running[]; holder: string | undefined }> {
  const random = seededRandom(seed);
  const clock = new FakeClock();
  const store = new FakeLeaseStore(clock);
  let calm = false;
  const lossRate = random() * 0.1;
  const network: NetworkModel = {
    latency: () => Math.floor(random() * MAX_LATENCY_MS),
    fails: () => !calm && random() < lossRate,
  };
  const tenures: Tenure[] = [];
  const trace: string[] = [];
  const running: Running[] = [];
  let started = 0;
  let stopping = false;

  const launch = (identity: string) => {
    const name = `${identity}#${++started}`;
    const client = new FakeLeaseClient(store, clock, network);
    const stop = new AbortController();
    const elector = new LeaderElector({
      lease: client,
      identity,
      clock,
      wallClock: () => new Date(clock.now()),
      random,
      releaseOnCancel: random() < 0.5,
      onError: () => {},
      callbacks: {
        onStartedLeading: (signal) => {
          const tenure = { candidate: name, start: clock.now(), end: Number.POSITIVE_INFINITY };
          tenures.push(tenure);
          trace.push(`${clock.now()} ${name} starts leading`);
          signal.addEventListener("abort", () => {
            tenure.end = clock.now();
            trace.push(`${clock.now()} ${name} stops leading`);
          });
        },
        onStoppedLeading: () => {},
      },
    });
    const entry: Running = {
      name,
      identity,
      client,
      stop,
      elector,
      done: elector.run(stop.signal),
    };
    running.push(entry);
    // A candidate that lost leadership exits, as tug's daemons do, and is restarted.
    void entry.done.then(() => {
      if (stop.signal.aborted || stopping) return;
      trace.push(`${clock.now()} ${name} exited; restarting`);
      running.splice(running.indexOf(entry), 1);
      launch(identity);
      // The restarted process shares the old one's network fate.
      running.at(-1)!.client.partitioned = client.partitioned;
    });
  };

  const candidates = 2 + Math.floor(random() * 4);
  for (let i = 0; i < candidates; i++) launch(`c${i}`);

  for (let t = 0; t < FAULTY_MS; t += STEP_MS) {
    await clock.advance(STEP_MS);
    const roll = random();
    const pick = running[Math.floor(random() * running.length)];
    if (roll < 0.01 && pick !== undefined) {
      trace.push(`${clock.now()} crash ${pick.name}`);
      pick.stop.abort();
      running.splice(running.indexOf(pick), 1);
      // Restart at once, under the same identity (a restarted pod) or a new one.
      launch(random() < 0.5 ? pick.identity : `${pick.identity}'`);
    } else if (roll < 0.02 && pick !== undefined) {
      pick.client.partitioned = !pick.client.partitioned;
      trace.push(`${clock.now()} ${pick.client.partitioned ? "partition" : "heal"} ${pick.name}`);
    }
  }
  calm = true;
  for (const r of running) r.client.partitioned = false;
  trace.push(`${clock.now()} faults stop`);
  await clock.advance(CALM_MS);

  const leaders = running.filter((r) => r.elector.isLeader());
  const holder = store.current()?.record.holderIdentity;
  stopping = true;
  for (const r of running) r.stop.abort();
  // Releasing may take a few round trips on the simulated network: let time pass until all end.
  let ended = false;
  const all = Promise.all(running.map((r) => r.done)).then(() => {
    ended = true;
  });
  for (let waited = 0; !ended && waited < 60_000; waited += STEP_MS) await clock.advance(STEP_MS);
  await all;
  return { tenures, trace, leaders, holder };
}

describe("leader election, property over seeds", () => {
  it("never has two leaders at once, and settles on one leader once faults stop", async () => {
    for (const seed of SEEDS) {
      const { tenures, trace, leaders, holder } = await simulate(seed);
      const sorted = [...tenures].sort((a, b) => a.start - b.start);
      for (let i = 1; i < sorted.length; i++) {
        const previous = sorted[i - 1]!;
        const next = sorted[i]!;
        if (next.start < previous.end) {
          expect.fail(
            `seed ${seed} (replay: LEADER_ELECTION_SEED=${seed}): ${next.candidate} started leading at ${next.start} while ${previous.candidate} led until ${previous.end}\n${trace.join("\n")}`,
          );
        }
      }
      if (leaders.length !== 1 || leaders[0]?.identity !== holder) {
        expect.fail(
          `seed ${seed} (replay: LEADER_ELECTION_SEED=${seed}): after ${CALM_MS} ms without faults, leaders [${leaders.map((l) => l.name).join(", ")}], lease holder ${holder}\n${trace.join("\n")}`,
        );
      }
      expect(tenures.length).toBeGreaterThan(0);
    }
  });
});
