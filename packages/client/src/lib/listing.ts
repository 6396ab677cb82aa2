import { type Entry, errorFromReply, FerryError, toFerryError } from "@ferry/protocol";
import { type Connection, type RequestHandler, unexpected } from "./connection.js";

/** Batches held for a consumer that is iterating but slower than the server. */
const MAX_BUFFERED_BATCHES = 16;

/**
 * Sends `list` now (keeping call order) and yields the entries of every `entries` frame as they
 * arrive. While a consumer iterates, at most a few batches are buffered (the reply waits for it);
 * a stream nobody iterates buffers the listing so it cannot stall the session.
 */
export function listStream(conn: Connection, path: string): AsyncIterable<Entry> {
  const turnPromise = conn.reserveTurn();
  const batches: Entry[][] = [];
  let finished = false;
  let failure: FerryError | null = null;
  let consuming = false;
  let abandoned = false;
  let wakeConsumer: (() => void) | null = null;
  let wakeProducer: (() => void) | null = null;
  const notify = () => {
    wakeConsumer?.();
    wakeConsumer = null;
  };

  const handler: RequestHandler = {
    async onFrame(msg) {
      if ("ok" in msg && !msg.ok) {
        failure = errorFromReply(msg);
        notify();
        return true;
      }
      if (!("ok" in msg) || msg.type !== "entries") throw unexpected(msg, "an entries reply");
      if (!abandoned) batches.push(msg.entries);
      finished = !msg.more;
      notify();
      if (!finished && consuming && !abandoned && batches.length >= MAX_BUFFERED_BATCHES) {
        await Promise.race([new Promise<void>((resolve) => (wakeProducer = resolve)), conn.whenFailed()]);
      }
      return finished;
    },
    onFail(err) {
      failure ??= err;
      notify();
    },
  };

  void (async () => {
    const turn = await turnPromise;
    try {
      const id = conn.allocId();
      conn.register(id, handler);
      if (!conn.sendFrame({ cmd: "list", id, path })) await conn.drained();
    } finally {
      turn.release();
    }
  })().catch((err: unknown) => {
    failure ??= toFerryError(err, "ECONNLOST");
    notify();
  });

  let iterated = false;
  return {
    async *[Symbol.asyncIterator]() {
      if (iterated) throw new FerryError("EINTERNAL", "a listing stream can be iterated only once");
      iterated = true;
      consuming = true;
      try {
        for (;;) {
          const batch = batches.shift();
          if (batch !== undefined) {
            wakeProducer?.();
            wakeProducer = null;
            yield* batch;
            continue;
          }
          if (failure) throw failure;
          if (finished) return;
          await new Promise<void>((resolve) => (wakeConsumer = resolve));
        }
      } finally {
        abandoned = true;
        batches.length = 0;
        wakeProducer?.();
      }
    },
  };
}
