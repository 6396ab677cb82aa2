import type { Socket } from "node:net";
import type { FerryError } from "@ferry/protocol";

/**
 * The socket as the async byte source a FrameReader pulls from (pulling is the backpressure), plus
 * two things the reader cannot know: when bytes arrive (for the header deadline) and a way to make
 * a pending read fail at once (idle timeout, shutdown) even when the peer sends nothing.
 */
export class SocketSource implements AsyncIterable<Buffer> {
  /** True while a read is waiting for the peer. */
  waiting = false;
  onChunk: (() => void) | null = null;
  private readonly inner: AsyncIterator<Buffer>;
  private failure: FerryError | null = null;
  private wake: ((err: FerryError) => void) | null = null;

  constructor(socket: Socket) {
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
      const result = await Promise.race([this.inner.next(), aborted]);
      if (!result.done) this.onChunk?.();
      return result;
    } finally {
      this.waiting = false;
      this.wake = null;
    }
  }
}
