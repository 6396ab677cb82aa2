import type { Socket } from "node:net";
import { performance } from "node:perf_hooks";

/**
 * How much of our own output the server must take per timeout period to count as alive while it
 * owes us a reply. With the default 30 s that is about 70 KB/s: far below what a loaded server
 * drains per connection (300 concurrent uploads on 2 cores ran at 0.2–0.3 MB/s each).
 */
export const DRAIN_PER_PERIOD = 2 * 1024 * 1024;

/**
 * The most that can sit between our socket and the server's read calls: Linux's loopback buffers
 * (4 MiB send, autotuned receive up to 32 MiB by default). More than that cannot be "still in the
 * kernel", so a peer that swallows bytes without answering is still caught.
 */
export const KERNEL_BUFFERS_MAX = 32 * 1024 * 1024;

export interface IdleHooks {
  /** True while the server owes us something and we are not busy locally. */
  waiting(): boolean;
  /** The server has been silent for longer than allowed. */
  expire(silentMs: number): void;
}

/**
 * The idle timeout of a connection, counting progress both ways. A byte received is progress, and so
 * is the kernel taking more of our output (a write completing): that only happens as the server
 * reads. Once all our output is in the kernel, nothing moves on our side while the server drains
 * it, which on a busy server can take longer than the timeout (300 concurrent 10 MiB puts); so the
 * silence allowed grows by one period for every DRAIN_PER_PERIOD bytes the server has not provably
 * read yet. A peer that is truly stalled is still declared dead, only later after a big write.
 *
 * "Provably read" is a stream position: a reply to a request means the server read that request.
 */
export class IdleWatch {
  /** Stream position of everything handed to the socket. */
  private queued = 0;
  /** Bytes the kernel has taken (write callbacks). */
  private flushed = 0;
  /** Stream position up to which the server has read, as far as its replies show. */
  private acked = 0;
  private lastRead = 0;
  private lastFlushed = 0;
  private lastProgress = performance.now();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly socket: Socket,
    private readonly timeoutMs: number,
    private readonly hooks: IdleHooks,
  ) {
    // Checking four times a period keeps the error under a quarter period and costs nothing.
    this.timer = setInterval(() => this.tick(), Math.max(10, timeoutMs / 4));
    this.timer.unref();
  }

  /** Counts `n` bytes handed to socket.write; pass the result as that write's callback. */
  sent(n: number): () => void {
    this.queued += n;
    return () => {
      this.flushed += n;
    };
  }

  /** The stream position right now (where the next request's header will start). */
  get position(): number {
    return this.queued;
  }

  /** The server has read at least up to `position`. */
  acknowledge(position: number): void {
    if (position > this.acked) this.acked = position;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const now = performance.now();
    const read = this.socket.bytesRead;
    if (read !== this.lastRead || this.flushed !== this.lastFlushed || !this.hooks.waiting()) {
      this.lastRead = read;
      this.lastFlushed = this.flushed;
      this.lastProgress = now;
      return;
    }
    const unread = Math.min(Math.max(0, this.flushed - this.acked), KERNEL_BUFFERS_MAX);
    const allowed = this.timeoutMs * (1 + unread / DRAIN_PER_PERIOD);
    const silent = now - this.lastProgress;
    if (silent >= allowed) this.hooks.expire(silent);
  }
}
