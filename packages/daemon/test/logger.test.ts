// The JSON log line in both layouts, level filtering, and values JSON cannot hold by itself.

import { describe, expect, it } from "vitest";
import { createLogger, isLogLevel } from "../src/index.js";

const NOW = () => new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));

describe("createLogger", () => {
  it("flat: fields beside msg, an Error as its message, lines below the level dropped", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "info", write: (l) => lines.push(l), now: NOW });
    log.debug("dropped");
    log.info("bound pod", { pod: "default/a", err: new Error("boom"), big: 10n });
    log.error("no fields");
    expect(lines).toEqual([
      '{"ts":"2026-01-02T03:04:05.678Z","level":"info","msg":"bound pod","pod":"default/a","err":"boom","big":"10"}\n',
      '{"ts":"2026-01-02T03:04:05.678Z","level":"error","msg":"no fields"}\n',
    ]);
  });

  it("nested: component, fields under fields, an Error as {message, code}", () => {
    const lines: string[] = [];
    const log = createLogger({
      level: "info",
      layout: "nested",
      component: "tug-store",
      write: (l) => lines.push(l),
      now: NOW,
    });
    const raft = log.child("raft");
    raft.debug("dropped");
    raft.info("became leader", {
      term: 2,
      big: 10n,
      peers: new Set(["a"]),
      err: Object.assign(new Error("boom"), { code: "EIO" }),
    });
    log.warn("no fields", {});
    expect(lines).toEqual([
      '{"ts":"2026-01-02T03:04:05.678Z","level":"info","component":"raft","msg":"became leader","fields":{"term":2,"big":"10","peers":["a"],"err":{"message":"boom","code":"EIO"}}}\n',
      '{"ts":"2026-01-02T03:04:05.678Z","level":"warn","component":"tug-store","msg":"no fields"}\n',
    ]);
    expect(raft.level).toBe("info");
  });

  it("flat with a component: component before msg, fields beside it", () => {
    const lines: string[] = [];
    const log = createLogger({
      level: "debug",
      component: "tug-agent",
      write: (l) => lines.push(l),
      now: NOW,
    });
    log.debug("pod started", { pod: "a" });
    expect(lines).toEqual([
      '{"ts":"2026-01-02T03:04:05.678Z","level":"debug","component":"tug-agent","msg":"pod started","pod":"a"}\n',
    ]);
  });

  it("knows the levels", () => {
    expect(isLogLevel("warn")).toBe(true);
    expect(isLogLevel("loud")).toBe(false);
  });
});
