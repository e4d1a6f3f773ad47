// Node 20's HTTP/2 can free a stream that nghttp2 is still reading: a promise continuation
// that runs inside a read callback (Node drains microtasks when it returns from each JS
// callback nghttp2_session_mem_recv makes) and resets a stream — stream.close(code), or
// session.destroy(), which resets every stream — makes Node send at once
// (Http2Stream::SubmitRstStream → SendPendingData → nghttp2_session_mem_send), and nghttp2
// frees the closed stream while the read in progress still holds it. Valgrind showed that
// read-after-free in nghttp2_session_mem_recv2 in a tug test process that glibc later aborted
// ("corrupted size vs. prev_size"). So every reset or destroy this package starts runs on a
// macrotask of its own, never inside a read.

/** Runs `reset` on the next turn of the event loop, outside any HTTP/2 read callback. */
export function outsideReads(reset: () => void): void {
  setImmediate(reset);
}
