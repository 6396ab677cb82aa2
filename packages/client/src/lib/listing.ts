import { type Entry, errorFromReply, FerryError, type HashAlgorithm, toFerryError } from "@ferry/protocol";
import { type Connection, type RequestHandler, unexpected } from "./connection.js";

/**
 * Sends `list` now (keeping call order) and yields the entries of every `entries` frame as they
 * arrive. Batches are buffered rather than holding the reply back: a consumer that awaits other
 * calls of the same session inside its loop (whose replies queue behind the listing) must not
 * deadlock, and a listing is bounded by the directory it describes. Entries carry the hashes the
 * server knows in `alg`: in `md5` for md5, in `hash` for another (PROTOCOL.md §1.2).
 */
export function listStream(conn: Connection, path: string, alg: HashAlgorithm = "md5"): AsyncIterable<Entry> {
  const turnPromise = conn.reserveTurn();
  const batches: Entry[][] = [];
  let finished = false;
  let failure: FerryError | null = null;
  let abandoned = false;
  let wake: (() => void) | null = null;
  const notify = () => {
    wake?.();
    wake = null;
  };

  const handler: RequestHandler = {
    onFrame(msg) {
      if ("ok" in msg && !msg.ok) {
        failure = errorFromReply(msg);
        notify();
        return true;
      }
      if (!("ok" in msg) || msg.type !== "entries") throw unexpected(msg, "an entries reply");
      if (!abandoned) batches.push(msg.entries);
      finished = !msg.more;
      notify();
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
      if (!conn.sendFrame({ cmd: "list", id, path, ...(alg === "md5" ? {} : { alg }) })) await conn.drained();
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
      try {
        for (;;) {
          const batch = batches.shift();
          if (batch !== undefined) {
            yield* batch;
            continue;
          }
          if (failure) throw failure;
          if (finished) return;
          await new Promise<void>((resolve) => (wake = resolve));
        }
      } finally {
        // The rest of the reply is still read (the connection stays in step) but not kept.
        abandoned = true;
        batches.length = 0;
      }
    },
  };
}
