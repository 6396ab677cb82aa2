import type { FileHandle } from "node:fs/promises";
import { FerryError } from "@ferry/protocol";

export const READ_CHUNK = 1024 * 1024;

/**
 * Yields bytes [start, end) of an open file in 1 MiB reads, with the next read already under way
 * while the consumer sends the current chunk. Every chunk is a fresh buffer (the consumer may keep
 * it queued in a socket). A file that shrinks under us is an error: the frame could not be completed.
 */
export async function* readRange(fh: FileHandle, start: number, end: number): AsyncGenerator<Buffer> {
  let pos = start;
  const readAt = async (at: number): Promise<Buffer> => {
    const want = Math.min(READ_CHUNK, end - at);
    const buf = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await fh.read(buf, got, want - got, at + got);
      if (bytesRead === 0) throw new FerryError("ESIZE", "the file shrank while it was being read");
      got += bytesRead;
    }
    return buf;
  };
  let pending = pos < end ? readAt(pos) : null;
  while (pending) {
    const chunk = await pending;
    pos += chunk.length;
    pending = pos < end ? readAt(pos) : null;
    // A prefetch that fails while the consumer is busy must not be an unhandled rejection.
    pending?.catch(() => {});
    yield chunk;
  }
}
