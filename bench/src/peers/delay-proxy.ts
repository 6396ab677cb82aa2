import { type AddressInfo, createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import { performance } from "node:perf_hooks";

/** Bytes one direction of one connection may hold before the proxy stops reading from its sender. */
export const DEFAULT_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export interface DelayProxyOptions {
  /** Where every accepted connection is forwarded (127.0.0.1 unless told). */
  target: { host?: string; port: number };
  /** One-way delay, applied in each direction: a 50 ms round trip is `delayMs: 25`. */
  delayMs: number;
  /** Pace of each direction of each connection in bytes per second; absent: as fast as it comes. */
  rateBytesPerSecond?: number;
  /**
   * Bytes held per direction (waiting out the delay or the pace). At the bound the proxy pauses
   * its sender until delivery makes room, so TCP's own backpressure reaches the sending process.
   */
  maxBufferedBytes?: number;
}

export interface DelayProxyStats {
  connections: number;
  /** The most bytes any one direction has held at once: stays within maxBufferedBytes + one chunk. */
  maxQueuedBytes: number;
}

export interface DelayProxy {
  /** The proxy's port on 127.0.0.1. */
  port: number;
  stats(): DelayProxyStats;
  /** Stops listening and cuts every open connection. */
  close(): Promise<void>;
}

/**
 * A TCP proxy on 127.0.0.1 that plays a long link: every chunk is delivered `delayMs` after it
 * arrived, in order, and optionally no faster than a pace. The kernels of these VMs have no netem,
 * so the bench puts this same proxy in front of ferryd, rsyncd and sshd alike.
 */
export async function startDelayProxy(options: DelayProxyOptions): Promise<DelayProxy> {
  const maxBuffered = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  const rate = options.rateBytesPerSecond;
  if (options.delayMs < 0 || !Number.isFinite(options.delayMs)) throw new RangeError("delayMs must be ≥ 0");
  if (rate !== undefined && !(rate > 0)) throw new RangeError("rateBytesPerSecond must be > 0");
  // Bytes in flight on the "wire" count against the bound: below rate × delay the bound, not the
  // pace, would cap the throughput.
  if (rate !== undefined && (rate * options.delayMs) / 1000 > maxBuffered)
    throw new RangeError(`maxBufferedBytes ${maxBuffered} is below rate × delay; raise it`);
  const stats: DelayProxyStats = { connections: 0, maxQueuedBytes: 0 };
  const sockets = new Set<Socket>();
  const lines = new Set<DelayLine>();
  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    stats.connections++;
    const upstream = tcpConnect({
      host: options.target.host ?? "127.0.0.1",
      port: options.target.port,
      allowHalfOpen: true,
      noDelay: true,
    });
    const up = new DelayLine(client, upstream, options.delayMs, rate, maxBuffered, stats);
    const down = new DelayLine(upstream, client, options.delayMs, rate, maxBuffered, stats);
    const cut = () => {
      for (const line of [up, down]) {
        line.stop();
        lines.delete(line);
      }
      client.destroy();
      upstream.destroy();
    };
    // `from` is read by `line` and written by `back`.
    const watch = (from: Socket, line: DelayLine, back: DelayLine) => {
      sockets.add(from);
      lines.add(line);
      from.on("error", cut);
      from.on("close", () => {
        sockets.delete(from);
        back.stop();
        lines.delete(back);
        // What it sent before it went is still on the wire: deliver it, then end the other side.
        line.sourceGone();
      });
    };
    watch(client, up, down);
    watch(upstream, down, up);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    stats: () => ({ ...stats }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const line of lines) line.stop();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

interface Held {
  chunk: Buffer;
  /** performance.now() time at which it may leave. */
  due: number;
}

/** One direction of one connection: a bounded FIFO of chunks, each released at its due time. */
class DelayLine {
  private readonly queue: Held[] = [];
  private head = 0;
  private queued = 0;
  private nextFree = 0;
  private timer: NodeJS.Timeout | null = null;
  private waitingForDrain = false;
  private paused = false;
  private ended = false;
  private stopped = false;
  private done = false;

  constructor(
    private readonly source: Socket,
    private readonly dest: Socket,
    private readonly delayMs: number,
    private readonly rate: number | undefined,
    private readonly maxBuffered: number,
    private readonly stats: DelayProxyStats,
  ) {
    source.on("data", (chunk: Buffer) => this.arrive(chunk));
    source.on("end", () => this.sourceGone());
  }

  /** The sender will send nothing more: deliver what is held, then end the receiving side. */
  sourceGone(): void {
    this.ended = true;
    this.pump();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private arrive(chunk: Buffer): void {
    if (this.stopped) return;
    this.queue.push({ chunk, due: performance.now() + this.delayMs });
    this.queued += chunk.length;
    if (this.queued > this.stats.maxQueuedBytes) this.stats.maxQueuedBytes = this.queued;
    if (this.queued >= this.maxBuffered && !this.paused) {
      this.paused = true;
      this.source.pause();
    }
    this.pump();
  }

  /** Delivers every chunk whose time has come, then sleeps until the next one's. */
  private pump(): void {
    if (this.stopped || this.timer !== null || this.waitingForDrain) return;
    while (this.head < this.queue.length) {
      const held = this.queue[this.head] as Held;
      const at = Math.max(held.due, this.nextFree);
      const wait = at - performance.now();
      if (wait > 0) {
        // Timers may fire a little early against performance.now(); pump checks again then.
        this.timer = setTimeout(() => {
          this.timer = null;
          this.pump();
        }, Math.ceil(wait));
        return;
      }
      this.queue[this.head++] = undefined as unknown as Held; // let the chunk be collected
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      this.queued -= held.chunk.length;
      if (this.rate !== undefined) this.nextFree = at + (held.chunk.length * 1000) / this.rate;
      const more = this.dest.write(held.chunk);
      if (this.paused && this.queued < this.maxBuffered) {
        this.paused = false;
        this.source.resume();
      }
      if (!more) {
        this.waitingForDrain = true;
        this.dest.once("drain", () => {
          this.waitingForDrain = false;
          this.pump();
        });
        return;
      }
    }
    if (this.ended && !this.done) {
      this.done = true;
      this.dest.end();
    }
  }
}
