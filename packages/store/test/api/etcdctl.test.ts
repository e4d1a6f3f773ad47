// The real etcdctl 3.4 against tug-store's etcd v3 API, and the same file against a real
// etcd 3.4: every assertion describes what etcdctl shows a user of etcd.

import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ctl, EtcdctlProcess, errorLine, etcdctl } from "./etcdctl.js";
import { TARGETS, type Target } from "./targets.js";

interface JsonHeader {
  cluster_id: number;
  member_id: number;
  revision?: number;
  raft_term: number;
}

interface JsonKv {
  key: string;
  value?: string;
  create_revision: number;
  mod_revision: number;
  version: number;
  lease?: number;
}

interface JsonRange {
  header: JsonHeader;
  kvs?: JsonKv[];
  more?: boolean;
  count?: number;
}

const b64 = (s: string) => Buffer.from(s).toString("base64");

for (const [name, start] of TARGETS) {
  describe(`etcdctl 3.4 against ${name}`, () => {
    let t: Target;
    let tmp: string;

    beforeAll(async () => {
      t = await start();
      tmp = await mkdtemp(join(tmpdir(), "tug-etcdctl-"));
    });
    afterAll(async () => {
      await t?.close();
      if (tmp) await rm(tmp, { recursive: true, force: true });
    });

    const run = (...args: string[]) => ctl(t.endpoint, ...args);
    const getJson = async (...args: string[]) =>
      JSON.parse(await run("get", ...args, "-w", "json")) as JsonRange;
    /** The store's current revision. */
    const revision = async () => Number((await getJson("no-such-key")).header.revision);

    it("puts and gets a key; -w json shows the header and the kv", async () => {
      expect(await run("put", "pg/a", "1")).toBe("OK\n");
      const rev = await revision();
      expect(await run("get", "pg/a")).toBe("pg/a\n1\n");
      const j = await getJson("pg/a");
      expect(j.header.cluster_id).toBeGreaterThan(0);
      expect(j.header.member_id).toBeGreaterThan(0);
      expect(j.header.revision).toBe(rev);
      expect(j.header.raft_term).toBeGreaterThanOrEqual(1);
      expect(j.count).toBe(1);
      expect(j.kvs).toEqual([
        { key: b64("pg/a"), value: b64("1"), create_revision: rev, mod_revision: rev, version: 1 },
      ]);
      expect(await run("get", "pg/missing")).toBe("");
    });

    it("gets by prefix, keys only, with a limit, at a past revision, serializably", async () => {
      await run("put", "pp/a", "1");
      const r1 = await revision();
      await run("put", "pp/b", "2");
      await run("put", "pp/c", "3");
      await run("put", "pp/a", "11");
      expect(await run("get", "--prefix", "pp/")).toBe("pp/a\n11\npp/b\n2\npp/c\n3\n");
      expect(await run("get", "--prefix", "--keys-only", "pp/")).toBe("pp/a\n\npp/b\n\npp/c\n\n");
      expect(await run("get", "--prefix", "--limit", "2", "pp/")).toBe("pp/a\n11\npp/b\n2\n");
      const limited = await getJson("--prefix", "--limit", "2", "pp/");
      expect(limited.more).toBe(true);
      expect(limited.count).toBe(3);
      expect(await run("get", "--prefix", "--rev", String(r1), "pp/")).toBe("pp/a\n1\n");
      expect(await run("get", "--prefix", "--consistency=s", "pp/")).toBe(
        "pp/a\n11\npp/b\n2\npp/c\n3\n",
      );
      const a = await getJson("pp/a");
      expect(a.kvs?.[0]).toMatchObject({ create_revision: r1, version: 2 });
      expect(await run("get", "--prefix", "--sort-by=MODIFY", "--order=DESCEND", "pp/")).toBe(
        "pp/a\n11\npp/c\n3\npp/b\n2\n",
      );
    });

    it("deletes a key with its previous value, and a prefix", async () => {
      await run("put", "pd/a", "1");
      await run("put", "pd/b", "2");
      await run("put", "pd/c", "3");
      expect(await run("del", "--prev-kv", "pd/a")).toBe("1\npd/a\n1\n");
      expect(await run("del", "--prefix", "pd/")).toBe("2\n");
      expect(await run("del", "pd/none")).toBe("0\n");
      expect(await run("get", "--prefix", "pd/")).toBe("");
    });

    it("runs a txn read from stdin interactively: the success branch, then the failure one", async () => {
      await run("put", "pt/k", "v1");
      const script = 'value("pt/k") = "v1"\n\nput pt/k v2\nget pt/k\n\nput pt/k v3\n\n';
      const ok = await etcdctl(t.endpoint, ["txn", "-i"], script);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toBe(
        "compares:\nsuccess requests (get, put, del):\nfailure requests (get, put, del):\n" +
          "SUCCESS\n\nOK\n\npt/k\nv2\n",
      );
      const again = await etcdctl(t.endpoint, ["txn", "-i"], script);
      expect(again.stdout.endsWith("FAILURE\n\nOK\n")).toBe(true);
      expect(await run("get", "pt/k")).toBe("pt/k\nv3\n");
      const json = await etcdctl(
        t.endpoint,
        ["txn", "-w", "json"],
        'mod("pt/k") > "0"\n\nget pt/k\n\n\n',
      );
      const resp = JSON.parse(json.stdout) as {
        succeeded: boolean;
        responses: { Response: { ResponseRange: { header: JsonHeader; kvs: JsonKv[] } } }[];
      };
      expect(resp.succeeded).toBe(true);
      const inner = resp.responses[0]?.Response.ResponseRange;
      // A response nested in a txn has a header holding only the revision.
      expect(inner?.header).toEqual({ revision: await revision() });
      expect(inner?.kvs[0]?.value).toBe(b64("v3"));
    });

    it("watches a prefix from a revision, with previous values", async () => {
      await run("put", "pw/a", "v1");
      const from = (await revision()) + 1;
      const watch = new EtcdctlProcess(t.endpoint, [
        "watch",
        "--prefix",
        "--prev-kv",
        "--rev",
        String(from),
        "pw/",
      ]);
      try {
        await run("put", "pw/a", "v2");
        await run("put", "pw/b", "x");
        await run("del", "pw/a");
        expect(await watch.readLines(5)).toEqual(["PUT", "pw/a", "v1", "pw/a", "v2"]);
        expect(await watch.readLines(3)).toEqual(["PUT", "pw/b", "x"]);
        expect(await watch.readLines(5)).toEqual(["DELETE", "pw/a", "v2", "pw/a", ""]);
      } finally {
        await watch.kill();
      }
    });

    it("watches history from an old revision after later writes", async () => {
      await run("put", "ph/k", "1");
      const first = await revision();
      await run("put", "ph/k", "2");
      await run("put", "ph/other", "x");
      const watch = new EtcdctlProcess(t.endpoint, ["watch", "--rev", String(first), "ph/k"]);
      try {
        expect(await watch.readLines(6)).toEqual(["PUT", "ph/k", "1", "PUT", "ph/k", "2"]);
        await run("put", "ph/k", "3");
        expect(await watch.readLines(3)).toEqual(["PUT", "ph/k", "3"]);
      } finally {
        await watch.kill();
      }
    });

    it("grants, keeps alive, inspects and revokes a lease", async () => {
      const grant = await run("lease", "grant", "60");
      const m = /^lease ([0-9a-f]{16}) granted with TTL\(60s\)\n$/.exec(grant);
      expect(m).not.toBeNull();
      const id = m?.[1] as string;
      expect(await run("put", `--lease=${id}`, "pl/k", "v")).toBe("OK\n");
      expect(await run("lease", "timetolive", "--keys", id)).toMatch(
        new RegExp(
          `^lease ${id} granted with TTL\\(60s\\), remaining\\(5\\ds\\), attached keys\\(\\[pl/k\\]\\)\\n$`,
        ),
      );
      expect(await run("lease", "keep-alive", "--once", id)).toBe(
        `lease ${id} keepalived with TTL(60)\n`,
      );
      expect(await run("lease", "list")).toContain(`${id}\n`);
      expect(await run("lease", "revoke", id)).toBe(`lease ${id} revoked\n`);
      expect(await run("get", "pl/k")).toBe("");
      expect(await run("lease", "timetolive", id)).toBe(`lease ${id} already expired\n`);
      const again = await etcdctl(t.endpoint, ["lease", "revoke", id]);
      expect(again.code).not.toBe(0);
      expect(errorLine(again)).toBe(
        "Error: failed to revoke lease (etcdserver: requested lease not found)",
      );
      // The smallest TTL granted is 2 s (1.5 election timeouts, rounded up).
      expect(await run("lease", "grant", "1")).toMatch(/granted with TTL\(2s\)\n$/);
    });

    it("lists the one member", async () => {
      const line = await run("member", "list");
      expect(line).toMatch(
        new RegExp(`^[0-9a-f]+, started, ${name}, http://[^,]+, http://${t.endpoint}, false\\n$`),
      );
      const j = JSON.parse(await run("member", "list", "-w", "json")) as {
        header: JsonHeader;
        members: { ID: number; name: string; clientURLs: string[]; isLearner?: boolean }[];
      };
      expect(j.members).toHaveLength(1);
      expect(j.members[0]?.ID).toBe(j.header.member_id);
      expect(j.members[0]?.clientURLs).toEqual([`http://${t.endpoint}`]);
      expect(j.header.revision).toBeUndefined();
    });

    it("shows endpoint status and health", async () => {
      const j = JSON.parse(await run("endpoint", "status", "-w", "json")) as {
        Endpoint: string;
        Status: {
          header: JsonHeader;
          version: string;
          dbSize: number;
          leader: number;
          raftIndex: number;
          raftTerm: number;
          raftAppliedIndex: number;
          isLearner?: boolean;
        };
      }[];
      const s = j[0]?.Status;
      expect(j[0]?.Endpoint).toBe(t.endpoint);
      expect(s?.version).toMatch(/^3\.4\.\d+$/);
      expect(s?.dbSize).toBeGreaterThan(0);
      expect(s?.leader).toBe(s?.header.member_id);
      expect(s?.raftTerm).toBe(s?.header.raft_term);
      expect(s?.raftIndex).toBeGreaterThan(0);
      expect(s?.raftAppliedIndex).toBe(s?.raftIndex);
      expect(s?.isLearner).toBeUndefined();
      const table = await run("endpoint", "status");
      expect(table).toMatch(
        new RegExp(`^${t.endpoint}, [0-9a-f]+, 3\\.4\\.\\d+, .+, true, false, `),
      );
      const health = await etcdctl(t.endpoint, ["endpoint", "health"]);
      expect(health.code).toBe(0);
      expect(health.stdout + health.stderr).toMatch(
        new RegExp(`${t.endpoint} is healthy: successfully committed proposal: took = `),
      );
    });

    it("compacts, then refuses reads and watches below the compact revision", async () => {
      await run("put", "pc/k", "1");
      const r1 = await revision();
      await run("put", "pc/k", "2");
      const r2 = await revision();
      expect(await run("compaction", String(r2))).toBe(`compacted revision ${r2}\n`);
      const old = await etcdctl(t.endpoint, ["get", "pc/k", "--rev", String(r1)]);
      expect(old.code).not.toBe(0);
      expect(errorLine(old)).toBe("Error: etcdserver: mvcc: required revision has been compacted");
      expect(await run("get", "pc/k", "--rev", String(r2))).toBe("pc/k\n2\n");
      const twice = await etcdctl(t.endpoint, ["compaction", String(r1)]);
      expect(errorLine(twice)).toBe(
        "Error: etcdserver: mvcc: required revision has been compacted",
      );
      const watch = new EtcdctlProcess(t.endpoint, ["watch", "--rev", String(r1), "pc/k"]);
      const code = await watch.exit();
      expect(code).not.toBe(0);
      expect(watch.stderr).toContain("Error: watch is canceled by the server");
    });

    it("saves a snapshot with etcd's SHA-256 trailer", async () => {
      await run("put", "ps/k", "v");
      const path = join(tmp, `${name}.db`);
      const out = await run("snapshot", "save", path);
      expect(out).toBe(`Snapshot saved at ${path}\n`);
      const file = await readFile(path);
      expect(file.length % 512).toBe(32);
      const image = file.subarray(0, file.length - 32);
      const sha = createHash("sha256").update(image).digest();
      expect(file.subarray(file.length - 32).equals(sha)).toBe(true);
    });

    it("answers bad requests with etcd's error texts", async () => {
      const cases: [args: string[], input: string | undefined, error: string][] = [
        [["get", ""], undefined, "Error: etcdserver: key is not provided"],
        [
          ["get", "pe/k", "--rev", "99999999"],
          undefined,
          "Error: etcdserver: mvcc: required revision is a future revision",
        ],
        [
          ["put", "--lease=7b", "pe/k", "v"],
          undefined,
          "Error: etcdserver: requested lease not found",
        ],
        [
          ["txn"],
          `\n${Array.from({ length: 129 }, (_, i) => `put pe/k${i} v`).join("\n")}\n\n\n`,
          "Error: etcdserver: too many operations in txn request",
        ],
        [
          ["txn"],
          "\nput pe/d v\nput pe/d w\n\n\n",
          "Error: etcdserver: duplicate key given in txn request",
        ],
        [
          ["put", "pe/big"],
          "x".repeat(1.6 * 1024 * 1024),
          "Error: etcdserver: request is too large",
        ],
      ];
      for (const [args, input, error] of cases) {
        const r = await etcdctl(t.endpoint, args, input);
        expect(r.code, args.join(" ")).not.toBe(0);
        expect(errorLine(r), args.join(" ")).toBe(error);
      }
      // The largest value that fits goes through.
      const fits = await etcdctl(t.endpoint, ["put", "pe/fits"], "x".repeat(1024 * 1024));
      expect(fits.stdout).toBe("OK\n");
    });
  });
}
