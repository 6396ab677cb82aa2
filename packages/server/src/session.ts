import type { Socket } from "node:net";
import {
  type ClientFrame,
  drained,
  encodeFrame,
  errorReplyOf,
  FerryError,
  type Frame,
  FrameReader,
  parseClientFrame,
  parseHello,
  TokenBucket,
  TurnCork,
  toFerryError,
  writeFrame,
  writePaced,
} from "@ferry/protocol";
import { dispatch, refusal } from "./commands/index.js";
import { isSmallPut } from "./commands/put/small.js";
import type { Access, ServerContext, SessionIO, TransferRecord } from "./context.js";
import { Login } from "./login.js";
import { Pipeline } from "./pipeline.js";
import { sendChunks } from "./send-chunks.js";
import { SocketSource } from "./socket-source.js";
import type { LentChunk, Storage } from "./storage/storage.js";

/** How long a closing connection waits for the peer to read the last frame before it is cut. */
const LINGER_MS = 1_000;

/**
 * One connection: hello and auth, then requests in arrival order. Runs of small puts or of gets/sums
 * overlap their disk work in a {@link Pipeline} (answers still in order, effects still seen in
 * order); every other request runs alone once everything before it is answered.
 */
export class Session implements SessionIO {
  readonly addr: string;
  private readonly source: SocketSource;
  private readonly reader: FrameReader;
  private state: "login" | "ready" = "login";
  private readonly login: Login;
  /** Where the login put this session; null until it is ready. */
  private confined: { storage: Storage; access: Access } | null = null;
  private pushedBack: Frame | null = null;
  /** The payload of the last frame read, which its command may have left unread. */
  private openPayload: AsyncIterator<Buffer> | null = null;
  private awaitingHeader = false;
  private headerTimer: NodeJS.Timeout | null = null;
  private midFrame = false;
  private busy = false;
  private closing = false;
  private finished = false;
  /** Set when a pipelined answer found the stream unusable: nothing more is sent. */
  private broken: FerryError | null = null;
  private readonly pipeline: Pipeline;
  /** `--max-rate`: what this connection may send per second (what it may read is in `source`). */
  private readonly sendLimit: TokenBucket | null;
  /** Answers written in one turn of the event loop leave in one write. */
  private readonly turnCork: TurnCork;

  constructor(
    private readonly socket: Socket,
    readonly server: ServerContext,
    private readonly log: (
      level: "debug" | "info" | "warn",
      msg: string,
      fields?: Record<string, unknown>,
    ) => void,
  ) {
    this.addr = `${socket.remoteAddress}:${socket.remotePort}`;
    const rate = server.options.maxRate;
    this.sendLimit = rate > 0 ? new TokenBucket(rate) : null;
    this.turnCork = new TurnCork(socket);
    this.source = new SocketSource(socket, rate > 0 ? new TokenBucket(rate) : null);
    this.reader = new FrameReader(this.source, { maxHeaderBytes: server.options.maxHeaderBytes });
    this.source.onChunk = () => this.startHeaderClock();
    this.pipeline = new Pipeline(this, (id, err) => this.failRequest(id, err));
    this.login = new Login(server, socket, this.addr, log);
    socket.setNoDelay(true);
    socket.on("error", () => {}); // surfaced by the reader as ECONNLOST
    socket.setTimeout(server.options.idleTimeoutMs, () => this.onIdle());
  }

  /** Serves the connection until it ends; never rejects. */
  async run(): Promise<void> {
    let reason = "closed by client";
    let detail: string | undefined;
    try {
      reason = await this.loop();
    } catch (err) {
      const e = toFerryError(err);
      reason = `${e.code}: ${e.message}`;
      // A client that hangs up mid-request (Ctrl-C, a killed script) is not a failure of the server.
      if (e.code === "ECONNLOST" && !this.closing) {
        reason = "client went away";
        detail = e.message;
      }
      // Requests already taken are answered (or their uploads committed) before the last word.
      await this.pipeline.drain();
      if (e.code !== "ECONNLOST" && !this.midFrame && !this.socket.destroyed && !this.broken) {
        await this.send(errorReplyOf(null, e)).catch(() => {});
      }
    } finally {
      await this.pipeline.drain();
      // A pipelined transfer cut off by the peer (a get the client stopped reading) ends the loop as
      // a plain end of input; it is the same hang-up.
      if (detail === undefined && this.broken?.code === "ECONNLOST" && !this.closing) {
        reason = "client went away";
        detail = this.broken.message;
      }
      this.finish(reason, detail);
    }
  }

  /** Graceful stop: close now if idle, otherwise after the request in progress. */
  shutdown(): void {
    this.closing = true;
    if (!this.busy) this.source.abort(new FerryError("ECONNLOST", "server shutting down"));
  }

  /**
   * A pipelined request failed: answer it, unless the stream can no longer be trusted (connection
   * lost, or a data frame cut short), in which case nothing more is sent and the session ends.
   */
  private async failRequest(id: number, err: unknown): Promise<void> {
    const e = toFerryError(err);
    if (e.code === "ECONNLOST" || e.code === "ETIMEDOUT" || this.midFrame || this.broken) {
      this.broken ??= e;
      this.source.abort(e);
      return;
    }
    await this.send(errorReplyOf(id, e)).catch((sendErr) => {
      this.broken ??= toFerryError(sendErr);
      this.source.abort(this.broken);
    });
  }

  /** Hard stop: an upload in progress is kept as a resumable partial. */
  destroy(): void {
    this.source.abort(new FerryError("ECONNLOST", "server shutting down"));
    this.socket.destroy();
  }

  private async loop(): Promise<string> {
    while (!this.closing) {
      const frame = await this.nextFrame();
      if (!frame) return "closed by client";
      const parsed = this.login.awaitingHello ? parseHello(frame.header) : parseClientFrame(frame.header);
      if (!parsed.ok) {
        // A data or end frame is never a request: a malformed one that belongs to no transfer in
        // progress (say, of a put already refused) is as stray as a well-formed one, and answering
        // it would answer that put a second time.
        const cmd = frame.header.cmd;
        if (this.state === "ready" && (cmd === "data" || cmd === "end")) continue;
        await this.pipeline.drain();
        const beforeReady = this.state !== "ready";
        const err = beforeReady ? this.notReady(parsed.error) : parsed.error;
        await this.send(errorReplyOf(parsed.id, err));
        if (beforeReady) return `rejected before ready: ${err.code}`;
        // An error with id null is always the last frame (PROTOCOL.md §5): the client cannot tie it
        // to a request, so it cannot tell which of its pipelined requests it ended.
        if (parsed.id === null) return `a request without a readable id: ${err.code}`;
        continue;
      }
      const msg = parsed.value;
      if (msg.cmd === "data" || msg.cmd === "end") continue; // orphans: a refused put's payload
      if (this.state === "ready" && msg.cmd !== "hello" && msg.cmd !== "auth") {
        // Before either road (pipeline or dispatch): the one check of what this session may do.
        const refused = refusal(msg, this);
        if (refused) {
          await this.pipeline.drain();
          await this.send(errorReplyOf(msg.id, refused));
          continue;
        }
      }
      if (
        this.state === "ready" &&
        (msg.cmd === "get" || msg.cmd === "sum" || (msg.cmd === "put" && isSmallPut(msg)))
      ) {
        this.busy = true;
        try {
          if (msg.cmd === "get") await this.pipeline.get(msg);
          else if (msg.cmd === "sum") await this.pipeline.sum(msg);
          else await this.pipeline.put(msg);
        } finally {
          this.busy = false;
        }
        continue;
      }
      // Everything else runs alone, after every pipelined request before it is answered.
      await this.pipeline.drain();
      if (this.state !== "ready") {
        const stop = await this.handshake(msg);
        if (stop) return stop;
        continue;
      }
      if (msg.cmd === "hello" || msg.cmd === "auth") {
        await this.send(
          errorReplyOf(msg.id, new FerryError("EPROTO", `${msg.cmd} after the session started`)),
        );
        continue;
      }
      this.busy = true;
      try {
        await dispatch(msg, this);
        if (msg.cmd === "bye") return "bye";
      } catch (err) {
        const e = toFerryError(err);
        if (e.code === "ECONNLOST" || e.code === "ETIMEDOUT" || this.midFrame) throw e;
        await this.send(errorReplyOf(msg.id, e));
      } finally {
        this.busy = false;
      }
    }
    return "server shutting down";
  }

  /** A request that fails validation before the session is ready ends the session. */
  private notReady(err: FerryError): FerryError {
    if (this.login.authenticating) return new FerryError("EAUTH", "authenticate first");
    if (err.code === "EPROTO" || err.code === "EVERSION") return err;
    return new FerryError("EPROTO", "the first frame must be hello");
  }

  /** hello and auth. Returns a reason to close, or null to go on. */
  private async handshake(msg: Exclude<ClientFrame, { cmd: "data" | "end" }>): Promise<string | null> {
    const step = await this.login.step(msg);
    if (step.kind === "refuse") {
      await this.send(errorReplyOf(msg.id, step.error));
      return step.reason;
    }
    if (step.kind === "ready") {
      this.confined = { storage: step.storage, access: step.access };
      this.state = "ready";
    }
    await this.send(step.reply);
    return null;
  }

  // ---- SessionIO ----

  get storage(): Storage {
    if (!this.confined) throw new FerryError("EAUTH", "authenticate first");
    return this.confined.storage;
  }

  get access(): Access {
    if (!this.confined) throw new FerryError("EAUTH", "authenticate first");
    return this.confined.access;
  }

  async nextFrame(): Promise<Frame | null> {
    if (this.pushedBack) {
      const frame = this.pushedBack;
      this.pushedBack = null;
      return frame;
    }
    // Skip what is left of the previous payload (a refused put's data) before the header clock
    // starts: a big payload may take far longer than the header deadline to go by.
    const left = this.openPayload;
    this.openPayload = null;
    if (left) while (!(await left.next()).done);
    let frame: Frame | null;
    this.awaitingHeader = true;
    try {
      frame = await this.reader.next();
    } finally {
      this.awaitingHeader = false;
      this.stopHeaderClock();
    }
    if (!frame || frame.size === 0) return frame;
    const raw = frame.payload[Symbol.asyncIterator]();
    this.openPayload = raw;
    // A command that stops reading early only ends this view; the rest is skipped above.
    const view: AsyncIterator<Buffer> = {
      next: () => raw.next(),
      return: async () => ({ done: true, value: undefined }),
    };
    return { ...frame, payload: { [Symbol.asyncIterator]: () => view } };
  }

  unread(frame: Frame): void {
    this.pushedBack = frame;
  }

  async send(header: object): Promise<void> {
    if (this.broken) throw this.broken;
    this.turnCork.hold();
    if (this.sendLimit) await this.sendEncoded([encodeFrame(header)]);
    else await writeFrame(this.socket, header);
  }

  async sendEncoded(parts: readonly Uint8Array[]): Promise<void> {
    if (this.broken) throw this.broken;
    const socket = this.socket;
    if (socket.destroyed || socket.writableEnded) {
      throw new FerryError("ECONNLOST", "the connection is closed");
    }
    this.turnCork.hold();
    let more = true;
    if (this.sendLimit) {
      for (const part of parts) {
        if (!more) await drained(socket);
        more = await writePaced(socket, part, this.sendLimit);
      }
    } else {
      socket.cork();
      for (const part of parts) more = socket.write(part);
      socket.uncork();
    }
    if (!more) await drained(socket);
  }

  async sendData(
    header: { cmd: "data"; id: number; offset: number; size: number },
    chunks: AsyncIterable<LentChunk>,
    onChunk?: (chunk: Buffer) => void | Promise<void>,
  ): Promise<void> {
    await this.send(header);
    this.midFrame = true;
    await sendChunks(this.socket, chunks, onChunk, this.sendLimit);
    this.midFrame = false;
  }

  transfer(record: TransferRecord): void {
    const mbPerS = record.seconds > 0 ? record.bytes / 1e6 / record.seconds : 0;
    this.log("info", "transfer", {
      addr: this.addr,
      cmd: record.cmd,
      path: record.path,
      bytes: record.bytes,
      size: record.size,
      offset: record.offset,
      seconds: Number(record.seconds.toFixed(3)),
      mb_per_s: Number(mbPerS.toFixed(1)),
      result: record.result,
    });
  }

  // ---- timers and the end ----

  private startHeaderClock(): void {
    if (!this.awaitingHeader || this.headerTimer) return;
    this.headerTimer = setTimeout(() => {
      this.source.abort(new FerryError("ETIMEDOUT", "a header took too long to arrive"));
    }, this.server.options.headerTimeoutMs);
  }

  private stopHeaderClock(): void {
    if (this.headerTimer) clearTimeout(this.headerTimer);
    this.headerTimer = null;
  }

  private onIdle(): void {
    const e = new FerryError(
      "ETIMEDOUT",
      `no byte for ${Math.round(this.server.options.idleTimeoutMs / 1000)} s`,
    );
    // Waiting on the peer: the loop wakes and says why. Stuck writing to a peer that does not read:
    // nothing more can be said on this connection.
    if (this.source.waiting && !this.midFrame) this.source.abort(e);
    else this.socket.destroy();
  }

  private finish(reason: string, detail?: string): void {
    if (this.finished) return;
    this.finished = true;
    this.stopHeaderClock();
    this.socket.setTimeout(0);
    this.log("info", "disconnect", { addr: this.addr, reason, detail });
    if (this.socket.destroyed) return;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), LINGER_MS).unref();
  }
}
