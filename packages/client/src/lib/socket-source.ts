import type { Socket } from "node:net";

/** The size of one socket read, as net uses by default. */
const READ_SIZE = 64 * 1024;
/** Reads queued for the frame reader before the socket is paused: 1 MiB of read-ahead. */
const QUEUE_MAX = 16;

interface Filled {
  buffer: Buffer;
  length: number;
}

/**
 * A socket's incoming bytes as an async iterable for FrameReader, read into a small fixed pool of
 * buffers through net's `onread` option. By default every socket read allocates a fresh 64 KiB
 * buffer, which V8 frees only when external memory has grown by tens of MB: a 1 GiB download
 * peaked ~40 MB higher than it needs to. Here the same QUEUE_MAX + 2 buffers are used throughout.
 *
 * A chunk handed out is valid until the next call to `next()`: whoever reads it must have copied
 * or consumed it by then (FrameReader pulls again only when the consumer asks for more; the
 * parser copies split headers, and download sinks copy payload bytes).
 */
export class SocketSource implements AsyncIterable<Uint8Array> {
  private readonly free: Buffer[] = [];
  private readonly queue: Filled[] = [];
  private lent: Buffer | null = null;
  private socket: Socket | null = null;
  private paused = false;
  private ended = false;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  /** What is left of the lent read, when a rate limit hands it on in slices. */
  private rest: Buffer | null = null;

  /**
   * A rate limit, set by the connection: each chunk is handed on in slices of at most `slice` bytes,
   * each after `wait` resolves. Meanwhile the queue fills and the socket pauses (backpressure).
   */
  pace: { slice: number; wait(bytes: number): Promise<void> } | null = null;

  /** Pass as net.connect's `onread` option. */
  readonly onread = {
    buffer: (): Buffer => this.free.pop() ?? Buffer.allocUnsafeSlow(READ_SIZE),
    callback: (length: number, buffer: Uint8Array): boolean => {
      this.queue.push({ buffer: buffer as Buffer, length });
      this.notify();
      // false pauses the socket (backpressure) until the reader catches up.
      this.paused = this.queue.length >= QUEUE_MAX;
      return !this.paused;
    },
  };

  /** Call once the socket (created with `onread`) exists. */
  attach(socket: Socket): void {
    this.socket = socket;
    const end = () => {
      this.ended = true;
      this.notify();
    };
    socket.once("end", end);
    socket.once("close", end);
    socket.once("error", (err) => {
      this.failure ??= err;
      this.notify();
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return {
      next: () => this.next(),
      return: async () => {
        this.release();
        return { done: true, value: undefined };
      },
    };
  }

  private async next(): Promise<IteratorResult<Uint8Array>> {
    // The lent buffer stays lent while slices of it are still to come.
    if (this.rest === null) this.release();
    for (;;) {
      let view = this.rest;
      this.rest = null;
      if (view === null) {
        const filled = this.queue.shift();
        if (filled !== undefined) {
          this.lent = filled.buffer;
          if (this.paused && this.queue.length <= QUEUE_MAX / 2) {
            this.paused = false;
            this.socket?.resume();
          }
          view = filled.buffer.subarray(0, filled.length);
        }
      }
      if (view !== null) {
        if (this.pace) {
          if (view.length > this.pace.slice) {
            this.rest = view.subarray(this.pace.slice);
            view = view.subarray(0, this.pace.slice);
          }
          await this.pace.wait(view.length);
        }
        return { done: false, value: view };
      }
      if (this.failure !== null) throw this.failure;
      if (this.ended) return { done: true, value: undefined };
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /** The chunk handed out last is done with: its buffer takes the next read. */
  private release(): void {
    if (this.lent !== null) this.free.push(this.lent);
    this.lent = null;
    this.rest = null;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
