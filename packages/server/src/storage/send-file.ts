import type { FileHandle } from "node:fs/promises";
import type { Socket } from "node:net";
import { drained, FerryError, type TokenBucket, writePaced } from "@ferry/protocol";

export const SEND_CHUNK = 1024 * 1024;
/** One buffer in the socket, one being hashed and handed over, one being read ahead. */
const BUFFERS = 3;

/**
 * Writes bytes [start, end) of an open file to the socket in 1 MiB reads, reading the next block
 * while the socket sends the current one. Its three buffers are allocated once and reused as soon
 * as the socket says it is done with them (the write callback), so a 1 GiB download allocates 3 MiB,
 * not 1,024 buffers that only a GC would free. `onChunk` sees each block before it is sent (the
 * running hash; it must copy what it keeps). Backpressure: waits while the peer is not reading.
 * With a rate `limit` each block goes out in paced slices (writePaced), released after the last.
 */
export async function sendFileRange(
  socket: Socket,
  fh: FileHandle,
  start: number,
  end: number,
  onChunk?: (chunk: Buffer) => void | Promise<void>,
  limit: TokenBucket | null = null,
): Promise<void> {
  const size = Math.max(1, Math.min(SEND_CHUNK, end - start));
  const free: Buffer[] = Array.from({ length: BUFFERS }, () => Buffer.allocUnsafe(size));
  let wake: (() => void) | null = null;
  const release = (buf: Buffer) => {
    free.push(buf);
    wake?.();
    wake = null;
  };
  const take = async (): Promise<Buffer> => {
    while (free.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    return free.pop() as Buffer;
  };
  const readAt = async (at: number): Promise<{ buf: Buffer; chunk: Buffer }> => {
    const buf = await take();
    const want = Math.min(buf.length, end - at);
    let got = 0;
    try {
      while (got < want) {
        const { bytesRead } = await fh.read(buf, got, want - got, at + got);
        if (bytesRead === 0) throw new FerryError("ESIZE", "the file shrank while it was being read");
        got += bytesRead;
      }
    } catch (err) {
      release(buf);
      throw err;
    }
    return { buf, chunk: buf.subarray(0, want) };
  };

  let pos = start;
  let pending = pos < end ? readAt(pos) : null;
  while (pending) {
    const { buf, chunk } = await pending;
    pos += chunk.length;
    pending = pos < end ? readAt(pos) : null;
    // A read ahead that fails while this block is sent must not be an unhandled rejection.
    pending?.catch(() => {});
    try {
      if (onChunk) await onChunk(chunk);
    } catch (err) {
      release(buf);
      throw err;
    }
    if (socket.destroyed || socket.writableEnded) {
      throw new FerryError("ECONNLOST", "the connection is closed");
    }
    const more = await writePaced(socket, chunk, limit, () => release(buf));
    if (!more) await drained(socket);
  }
}
