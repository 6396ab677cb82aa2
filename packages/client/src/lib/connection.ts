import type { Socket } from "node:net";
import {
  drained,
  encodeFrame,
  errorFromReply,
  FerryError,
  type Frame,
  FrameReader,
  parseServerFrame,
  type ServerFrame,
  slices,
  TokenBucket,
  TurnCork,
  toFerryError,
} from "@ferry/protocol";
import { connectionLost } from "./errors.js";
import { IdleWatch } from "./idle-watch.js";
import type { SocketSource } from "./socket-source.js";

/**
 * Receives the frames of one request, in order. `onFrame` returns true when the request is complete.
 * A handler that throws breaks the connection (the stream can no longer be trusted); local problems
 * (a full disk) are the handler's to keep, so the connection stays in step.
 */
export interface RequestHandler {
  onFrame(msg: ServerFrame, frame: Frame): boolean | Promise<boolean>;
  /** The connection failed before the request completed. Called at most once. */
  onFail(err: FerryError): void;
}

/** Exclusive right to write to the socket; requests hold it from their header to their last frame. */
export interface Turn {
  release(): void;
}

interface Pending {
  id: number;
  handler: RequestHandler;
  /** Stream position of the request's header: once it is answered, the server has read that far. */
  start: number;
}

const MAX_ID = 2 ** 32;

/**
 * One ferry connection: frames in, frames out, nothing about files. Writers take turns (in the order
 * they asked) so each request's frames are contiguous; a request registers its handler right before
 * its header goes out, so the queue of pending handlers is in wire order and replies, which the server
 * sends in request order, go to the head of that queue.
 */
export class Connection {
  private readonly pending: Pending[] = [];
  private head = 0;
  private active: Pending | null = null;
  private sendTail: Promise<void> = Promise.resolve();
  private nextId = 0;
  private failure: FerryError | null = null;
  private localBusy = 0;
  /** Requests written in one turn (a burst of pipelined gets or small puts) leave in one write. */
  private readonly turnCork: TurnCork;
  private readonly failed: Promise<FerryError>;
  private markFailed!: (err: FerryError) => void;
  private readonly socketClosed: Promise<void>;
  private readonly idle: IdleWatch | null = null;
  /** `limitRate` for what we send (what we read is paced in `source`). */
  private readonly sendLimit: TokenBucket | null;

  /**
   * `source` reads the socket's bytes (it was created with source.onread); see SocketSource.
   * `limitRate`: bytes per second in each direction (ConnectOptions.limitRate).
   */
  constructor(
    private readonly socket: Socket,
    private readonly source: SocketSource,
    private readonly timeoutMs: number,
    limitRate?: number,
  ) {
    socket.setNoDelay(true);
    this.turnCork = new TurnCork(socket);
    source.attach(socket);
    this.sendLimit = limitRate === undefined ? null : new TokenBucket(limitRate);
    if (limitRate !== undefined) {
      const readLimit = new TokenBucket(limitRate);
      // Waiting for the limit is our own doing: the idle timer must not hold it against the server.
      source.pace = { slice: readLimit.slice, wait: (n) => this.localWork(() => readLimit.take(n)) };
    }
    this.failed = new Promise((resolve) => {
      this.markFailed = resolve;
    });
    this.socketClosed = new Promise((resolve) => socket.once("close", () => resolve()));
    // Socket errors reach us through the reader (and the close that follows); this only keeps an
    // unobserved 'error' event from becoming an uncaught exception.
    socket.on("error", () => {});
    if (timeoutMs > 0) {
      this.idle = new IdleWatch(socket, timeoutMs, {
        waiting: () => this.pending.length - this.head > 0 && this.localBusy === 0,
        expire: (silentMs) => this.onIdle(silentMs),
      });
    }
    void this.readLoop();
  }

  /** Set once the connection cannot be used any more. */
  get failureReason(): FerryError | null {
    return this.failure;
  }

  /** Resolves (never rejects) with the error once the connection has failed. */
  whenFailed(): Promise<FerryError> {
    return this.failed;
  }

  allocId(): number {
    const id = this.nextId;
    this.nextId = (this.nextId + 1) % MAX_ID;
    return id;
  }

  /**
   * Reserves the next turn to write, in call order. The caller MUST release it, also on failure; a
   * caller that no longer needs it (aborted while queued) releases it as soon as it is granted.
   */
  reserveTurn(): Promise<Turn> {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const previous = this.sendTail;
    this.sendTail = previous.then(() => gate);
    let released = false;
    const turn: Turn = {
      release: () => {
        if (released) return;
        released = true;
        open();
      },
    };
    return previous.then(() => turn);
  }

  /** Puts a handler at the tail of the reply queue; call right before writing the request's header. */
  register(id: number, handler: RequestHandler): void {
    this.assertOpen();
    this.pending.push({ id, handler, start: this.idle?.position ?? 0 });
  }

  /** Writes a header frame; false means the socket buffer is full (await `drained()`). */
  sendFrame(header: object): boolean {
    this.assertOpen();
    this.turnCork.hold();
    const frame = encodeFrame(header);
    // Headers are booked without waiting (they are small): the next payload's wait pays for them.
    this.sendLimit?.reserve(frame.byteLength);
    return this.send(frame);
  }

  /** Writes payload bytes; false means await `drained()`. The chunk must not be changed afterwards. */
  write(chunk: Uint8Array): boolean {
    this.assertOpen();
    this.sendLimit?.reserve(chunk.byteLength);
    return this.send(chunk);
  }

  /** True when the session has a rate limit: payload must then go through writePaced/writeOut. */
  get limited(): boolean {
    return this.sendLimit !== null;
  }

  /**
   * Writes payload bytes and resolves once the kernel has taken them, so the chunk's memory can be
   * reused (a drain alone does not say that of a chunk under the high-water mark). `onSent` hears of
   * the bytes as they go: with a rate limit, slice by slice (see writePaced).
   */
  async writeOut(chunk: Uint8Array, onSent?: (bytes: number) => void): Promise<void> {
    this.assertOpen();
    let last = chunk;
    if (this.sendLimit) {
      const parts = [...slices(chunk, this.sendLimit.slice)];
      last = parts.pop() as Uint8Array;
      for (const part of parts) await this.writePaced(part, onSent);
      await this.pace(last.byteLength);
      this.assertOpen();
    }
    const counted = this.idle?.sent(last.byteLength);
    await new Promise<void>((resolve, reject) => {
      this.socket.write(last, (err) => {
        if (err) {
          reject(this.failure ?? toFerryError(err, "ECONNLOST"));
          return;
        }
        counted?.();
        resolve();
      });
      onSent?.(last.byteLength);
    });
  }

  /**
   * Writes payload bytes no faster than the session's rate limit: slice by slice, each once the
   * limit allows it and the socket drained from the one before, so the limit queues nothing beyond
   * what an unlimited write would. Without a limit it is one write (and a drain when needed).
   */
  async writePaced(chunk: Uint8Array, onSent?: (bytes: number) => void): Promise<void> {
    const parts = this.sendLimit ? slices(chunk, this.sendLimit.slice) : [chunk];
    for (const part of parts) {
      await this.pace(part.byteLength);
      this.assertOpen();
      const more = this.send(part);
      onSent?.(part.byteLength);
      if (!more) await this.drained();
    }
  }

  /** Waits until the rate limit lets `bytes` go, as local work (see localWork). */
  private async pace(bytes: number): Promise<void> {
    const limit = this.sendLimit;
    if (limit === null) return;
    await this.localWork(() => limit.take(bytes));
  }

  private send(bytes: Uint8Array): boolean {
    return this.idle ? this.socket.write(bytes, this.idle.sent(bytes.byteLength)) : this.socket.write(bytes);
  }

  async drained(): Promise<void> {
    this.assertOpen();
    try {
      await drained(this.socket);
    } catch (err) {
      throw this.failure ?? toFerryError(err, "ECONNLOST");
    }
  }

  /** Holds small writes back so a request's frames leave in one segment. */
  cork(): void {
    this.turnCork.hold();
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }

  /**
   * Runs local work (hashing a resume prefix) during which the server is waiting for us, so the idle
   * timer must not count the silence against the server.
   */
  async localWork<T>(work: () => Promise<T>): Promise<T> {
    this.localBusy++;
    try {
      return await work();
    } finally {
      this.localBusy--;
    }
  }

  /** Sends one request whose answer is a single reply of type `expect`. */
  async call<R extends ServerFrame>(header: (id: number) => object, expect: string): Promise<R> {
    const turn = await this.reserveTurn();
    let reply: Promise<R>;
    try {
      this.assertOpen();
      const id = this.allocId();
      reply = new Promise<R>((resolve, reject) => this.register(id, singleReply(expect, resolve, reject)));
      // If the write below fails, the caller gets that error and nobody awaits the reply.
      reply.catch(() => {});
      if (!this.sendFrame(header(id))) await this.drained();
    } finally {
      turn.release();
    }
    return reply;
  }

  /**
   * Breaks the connection: the socket is destroyed and every pending request fails with `err`. The
   * request whose frame is being handled right now is told once its handler returns.
   */
  fail(err: FerryError): void {
    if (this.failure) return;
    this.failure = err;
    this.idle?.stop();
    this.socket.destroy();
    const waiting = this.pending.slice(this.head);
    this.pending.length = 0;
    this.head = 0;
    for (const p of waiting) if (p !== this.active) p.handler.onFail(err);
    this.markFailed(err);
  }

  /**
   * Ends the connection politely after the requests already queued; idempotent. `waitForBye: false`
   * does not wait for the answer to bye: once bye is written, our side of the connection is ended
   * (FIN after it), which the server meets after answering bye, so it sees a client that said bye.
   */
  async end(bye: boolean, waitForBye = true): Promise<void> {
    if (!this.failure && bye) {
      try {
        const answered = this.call((id) => ({ cmd: "bye", id }), "ok");
        answered.catch(() => {});
        await (waitForBye ? answered : Promise.race([this.endWriting(), answered]));
      } catch {
        // The server may already be gone; closing is all that is left to do.
      }
    }
    this.fail(connectionLost("the session is closed"));
    await this.socketClosed;
  }

  /** After what was queued to be written (bye): ends our side, resolves once the kernel has it all. */
  private async endWriting(): Promise<void> {
    // Turns are granted in call order: this one comes once bye's header is written.
    const turn = await this.reserveTurn();
    turn.release();
    if (this.failure || this.socket.destroyed) return;
    await new Promise<void>((resolve) => {
      this.socket.once("close", () => resolve());
      this.socket.end(() => resolve());
    });
  }

  private assertOpen(): void {
    if (this.failure) throw this.failure.code === "ECONNLOST" ? this.failure : connectionLost();
  }

  private onIdle(silentMs: number): void {
    const seconds = Math.round(silentMs / 1000);
    this.fail(
      new FerryError("ETIMEDOUT", `no answer from the server for ${seconds} s`, {
        timeoutMs: this.timeoutMs,
        silentMs: Math.round(silentMs),
      }),
    );
  }

  private async readLoop(): Promise<void> {
    const reader = new FrameReader(this.source);
    try {
      while (!this.failure) {
        const frame = await reader.next();
        if (frame === null) throw connectionLost("the server closed the connection");
        await this.dispatch(frame);
      }
    } catch (err) {
      this.fail(toFerryError(err, "EINTERNAL"));
    }
  }

  private async dispatch(frame: Frame): Promise<void> {
    const parsed = parseServerFrame(frame.header);
    if (!parsed.ok) {
      throw new FerryError("EPROTO", `the server sent a malformed frame: ${parsed.error.message}`);
    }
    const msg = parsed.value;
    if ("ok" in msg && !msg.ok && msg.id === null) {
      // An error the server could not tie to a request (a limit, a framing error): it closes next.
      throw errorFromReply(msg);
    }
    const head = this.pending[this.head];
    if (head === undefined || msg.id !== head.id) {
      const expected = head === undefined ? "none" : String(head.id);
      throw new FerryError("EPROTO", `the server sent a frame for request ${msg.id}, expected ${expected}`);
    }
    this.active = head;
    this.idle?.acknowledge(head.start);
    let done = false;
    try {
      done = await head.handler.onFrame(msg, frame);
    } finally {
      this.active = null;
      // A request that completed while the connection broke keeps its result.
      if (this.failure && !done) head.handler.onFail(this.failure);
    }
    if (done && !this.failure) this.shift();
  }

  private shift(): void {
    this.head++;
    // The request is answered in full, so the server has read all of its frames.
    this.idle?.acknowledge(this.pending[this.head]?.start ?? this.idle.position);
    if (this.head === this.pending.length) {
      this.pending.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending.splice(0, this.head);
      this.head = 0;
    }
  }
}

/** A handler for requests answered by exactly one reply frame (everything but put and get, list). */
export function singleReply<R>(
  expect: string,
  resolve: (reply: R) => void,
  reject: (err: FerryError) => void,
): RequestHandler {
  return {
    onFrame(msg) {
      if ("ok" in msg) {
        if (!msg.ok) {
          reject(errorFromReply(msg));
          return true;
        }
        if (msg.type === expect) {
          resolve(msg as R);
          return true;
        }
      }
      throw unexpected(msg, expect);
    },
    onFail: reject,
  };
}

/** The error for a frame that has no business arriving now; the connection is then broken. */
export function unexpected(msg: ServerFrame, expected: string): FerryError {
  const got = "ok" in msg ? (msg.ok ? `a ${msg.type} reply` : `an error`) : `a ${msg.cmd} frame`;
  return new FerryError("EPROTO", `the server sent ${got} where ${expected} was expected`);
}
