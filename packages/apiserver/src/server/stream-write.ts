// Writing to a server stream without buffering without bound: a write the stream cannot take at
// once (the client reads slowly) holds the producer until the stream drains.

import type { Writable } from "node:stream";

/**
 * Writes `message`; undefined when the stream took it, else a promise that settles once the
 * stream drained or `signal` aborted (the call ended). The producer awaits it before its next
 * write, so a slow client's backlog builds up at the source, not in the connection.
 */
export function writeWithBackpressure(
  stream: Pick<Writable, "write" | "once" | "off">,
  message: unknown,
  signal: AbortSignal,
): undefined | Promise<void> {
  if (stream.write(message)) return undefined;
  return new Promise<void>((resolve) => {
    const done = () => {
      stream.off("drain", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    stream.once("drain", done);
    signal.addEventListener("abort", done, { once: true });
  });
}
