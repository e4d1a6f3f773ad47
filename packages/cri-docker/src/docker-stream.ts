// Docker's multiplexed attach/logs/exec stream (Docker Engine API, "Attach to a container":
// stream format): frames of an 8-byte header [STREAM_TYPE, 0, 0, 0, SIZE1..SIZE4 big endian]
// then SIZE bytes of payload; stream 0 stdin, 1 stdout, 2 stderr. Containers with a TTY get a
// raw stream instead. Each frame is one Write of the container's output (for logs: one log
// message), which is why frames are kept whole here.

/** Stream numbers of the multiplexed format. */
export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;

/** Splits a multiplexed stream into frames, across chunk boundaries. */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (streamType: number, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      const streamType = this.pending[0] ?? STDOUT;
      const payload = this.pending.subarray(8, 8 + size);
      this.pending = this.pending.subarray(8 + size);
      this.onFrame(streamType, payload);
    }
  }
}

/** Encodes one frame of the multiplexed format (used by tug's exec streaming protocol too). */
export function encodeFrame(streamType: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = streamType;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}
