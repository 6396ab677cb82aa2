import type { Socket } from "node:net";
import { drained, FerryError, type TokenBucket, writePaced } from "@ferry/protocol";
import type { LentChunk } from "./storage/storage.js";

/**
 * Writes a file's lent blocks to the socket as one data frame's payload, each shown to `onChunk`
 * first (the running hash; it must copy what it keeps) and released once the socket is done with it
 * (the write callback), so the storage can reuse the buffer. Backpressure: waits while the peer is
 * not reading. With a rate `limit` each block goes out in paced slices (writePaced).
 */
export async function sendChunks(
  socket: Socket,
  chunks: AsyncIterable<LentChunk>,
  onChunk?: (chunk: Buffer) => void | Promise<void>,
  limit: TokenBucket | null = null,
): Promise<void> {
  for await (const chunk of chunks) {
    try {
      if (onChunk) await onChunk(chunk.bytes);
      if (socket.destroyed || socket.writableEnded) {
        throw new FerryError("ECONNLOST", "the connection is closed");
      }
    } catch (err) {
      chunk.release();
      throw err;
    }
    const more = await writePaced(socket, chunk.bytes, limit, () => chunk.release());
    if (!more) await drained(socket);
  }
}
