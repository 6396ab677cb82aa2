import { FerryError } from "../errors.js";
import { FrameParser, type ParserOptions } from "./parser.js";

/** A decoded frame. `payload` yields exactly `size` bytes in chunks; it is empty for all but `data`. */
export interface Frame {
  header: Record<string, unknown>;
  size: number;
  payload: AsyncIterable<Buffer>;
}

const EMPTY: AsyncIterable<Buffer> = {
  async *[Symbol.asyncIterator]() {},
};

/**
 * Pulls frames from any async byte source (a socket, a stream, a generator). Pulling is the
 * backpressure: a socket iterated this way is paused while nobody asks for the next chunk, so a
 * slow disk under a 100 GiB payload holds the sender back instead of filling memory.
 *
 * Read a frame's payload before asking for the next frame; whatever is left unread is skipped.
 */
export class FrameReader {
  private readonly parser: FrameParser;
  private readonly source: AsyncIterator<Uint8Array>;

  constructor(source: AsyncIterable<Uint8Array>, options: ParserOptions = {}) {
    this.parser = new FrameParser(options);
    this.source = source[Symbol.asyncIterator]();
  }

  /** The next frame, or null when the stream ended cleanly between frames. */
  async next(): Promise<Frame | null> {
    while (this.parser.payloadRemaining > 0) {
      for await (const _skipped of this.payload(this.parser.payloadRemaining));
    }
    for (;;) {
      const event = this.parser.next();
      if (event?.kind === "header") {
        const { header, payloadSize } = event;
        return { header, size: payloadSize, payload: payloadSize > 0 ? this.payload(payloadSize) : EMPTY };
      }
      if (!(await this.pull())) {
        if (this.parser.atFrameBoundary) return null;
        throw new FerryError("ECONNLOST", "the connection closed in the middle of a frame header");
      }
    }
  }

  private async *payload(size: number): AsyncGenerator<Buffer> {
    for (;;) {
      const event = this.parser.next();
      if (event?.kind === "payload") {
        yield event.chunk;
        if (this.parser.payloadRemaining === 0) return;
        continue;
      }
      if (event === null) {
        if (!(await this.pull())) {
          const got = size - this.parser.payloadRemaining;
          throw new FerryError("ECONNLOST", `the connection closed after ${got} of ${size} payload bytes`, {
            received: got,
            size,
          });
        }
        continue;
      }
      return;
    }
  }

  private async pull(): Promise<boolean> {
    let result: IteratorResult<Uint8Array>;
    try {
      result = await this.source.next();
    } catch (err) {
      if (err instanceof FerryError) throw err;
      throw new FerryError("ECONNLOST", `the connection failed: ${(err as Error).message}`);
    }
    if (result.done) return false;
    if (result.value.length > 0) this.parser.push(result.value);
    return true;
  }
}
