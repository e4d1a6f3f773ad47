// A CliIo for tests: captured stdout and stderr, a fixed clock, a given stdin, a scripted
// editor, and every connection answered by one FakeClient.

import type { CliIo } from "../../src/cli-io.js";
import type { Connection } from "../../src/config/config-ops.js";
import { FakeClient } from "./fake-client.js";

export interface FakeIo extends CliIo {
  out(): string;
  err(): string;
  readonly client: FakeClient;
  readonly connections: Connection[];
  readonly controller: AbortController;
}

export function fakeIo(
  options: {
    env?: Record<string, string | undefined>;
    stdin?: string;
    client?: FakeClient;
    now?: string;
    editor?: (file: string) => Promise<void>;
  } = {},
): FakeIo {
  let stdout = "";
  let stderr = "";
  const client = options.client ?? new FakeClient();
  const connections: Connection[] = [];
  const controller = new AbortController();
  return {
    stdout: {
      write: (text) => {
        stdout += text;
      },
    },
    stderr: {
      write: (text) => {
        stderr += text;
      },
    },
    readStdin: async () => options.stdin ?? "",
    env: options.env ?? { HOME: "/nonexistent-home" },
    now: () => new Date(options.now ?? "2024-05-01T12:00:00Z"),
    connect: (connection) => {
      connections.push(connection);
      return client;
    },
    runEditor: async (_editor, file) => {
      if (options.editor === undefined) throw new Error("no editor in this test");
      await options.editor(file);
    },
    signal: controller.signal,
    out: () => stdout,
    err: () => stderr,
    client,
    connections,
    controller,
  };
}
