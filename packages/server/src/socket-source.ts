import type { Socket } from "node:net";
import type { FerryError, TokenBucket } from "@ferry/protocol";
import { readBuffers } from "./read-buffer-gc.js";

/**
 * The socket as the async byte source a FrameReader pulls from (pulling is the backpressure), plus
 * two things the reader cannot know: when bytes arrive (for the header deadline) and a way to make
 * a pending read fail at once (idle timeout, shutdown) even when the peer sends nothing.
 *
 * With a rate `limit`, bytes are handed on in slices no faster than the bucket allows; meanwhile
 * nothing more is pulled from the socket, whose own buffer then fills and stops reading.
 */
export class SocketSource implements AsyncIterable<Buffer> {
  /** True while a read is waiting for the peer (or for the rate limit). */
  waiting = false;
  onChunk: (() => void) | null = null;
  private readonly inner: AsyncIterator<Buffer>;
  private failure: FerryError | null = null;
  private wake: ((err: FerryError) => void) | null = null;
  /** What is left of the last chunk read, when a rate limit hands it on in slices. */
  private rest: Buffer | null = null;

  constructor(
    socket: Socket,
    private readonly limit: TokenBucket | null = null,
  ) {
    // Ending the iteration must not destroy the socket: a final error frame may still be in flight.
    this.inner = socket.iterator({ destroyOnReturn: false }) as AsyncIterator<Buffer>;
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return { next: () => this.pull() };
  }

  /** Fails the pending read (and every later one) with `err`. */
  abort(err: FerryError): void {
    this.failure ??= err;
    this.wake?.(this.failure);
  }

  private async pull(): Promise<IteratorResult<Buffer>> {
    if (this.failure) throw this.failure;
    this.waiting = true;
    try {
      const aborted = new Promise<never>((_, reject) => {
        this.wake = reject;
      });
      let chunk = this.rest;
      this.rest = null;
      if (chunk === null) {
        const result = await Promise.race([this.inner.next(), aborted]);
        if (result.done) return result;
        chunk = result.value;
        readBuffers.received(chunk.length);
      }
      if (this.limit) {
        if (chunk.length > this.limit.slice) {
          this.rest = chunk.subarray(this.limit.slice);
          chunk = chunk.subarray(0, this.limit.slice);
        }
        await Promise.race([this.limit.take(chunk.length), aborted]);
      }
      this.onChunk?.();
      return { done: false, value: chunk };
    } finally {
      this.waiting = false;
      this.wake = null;
    }
  }
}
