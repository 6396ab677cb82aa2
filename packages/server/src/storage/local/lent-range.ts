import type { FileHandle } from "node:fs/promises";
import { FerryError } from "@ferry/protocol";
import type { LentChunk } from "../storage.js";

export const LENT_CHUNK = 1024 * 1024;
/** One buffer in the socket, one being hashed and handed over, one being read ahead. */
const BUFFERS = 3;

/**
 * Yields bytes [start, end) of an open file as lent 1 MiB blocks, the next read under way while the
 * consumer handles the current one. Its three buffers are allocated once and reused as soon as the
 * consumer releases them (a socket's write callback), so a 1 GiB download allocates 3 MiB, not
 * 1,024 buffers that only a GC would free; while the consumer holds all three, reading waits. A file
 * that shrinks under us is ESIZE: the frame could not be completed.
 */
export async function* lentRange(fh: FileHandle, start: number, end: number): AsyncGenerator<LentChunk> {
  const size = Math.max(1, Math.min(LENT_CHUNK, end - start));
  const free: Buffer[] = Array.from({ length: BUFFERS }, () => Buffer.allocUnsafe(size));
  let wake: (() => void) | null = null;
  const give = (buf: Buffer) => {
    free.push(buf);
    wake?.();
    wake = null;
  };
  const take = async (): Promise<Buffer> => {
    while (free.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    return free.pop() as Buffer;
  };
  const readAt = async (at: number): Promise<LentChunk> => {
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
      give(buf);
      throw err;
    }
    let lent = true;
    return {
      bytes: buf.subarray(0, want),
      release: () => {
        if (!lent) return;
        lent = false;
        give(buf);
      },
    };
  };

  let pos = start;
  let pending = pos < end ? readAt(pos) : null;
  try {
    while (pending) {
      const chunk = await pending;
      pos += chunk.bytes.length;
      pending = pos < end ? readAt(pos) : null;
      // A read ahead that fails while this block is handled must not be an unhandled rejection.
      pending?.catch(() => {});
      yield chunk;
    }
  } finally {
    pending?.catch(() => {});
  }
}
