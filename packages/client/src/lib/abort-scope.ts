import { FerryError, toFerryError } from "@ferry/protocol";
import type { Connection } from "./connection.js";
import { connectionLost } from "./errors.js";

export function abortedError(): FerryError {
  return new FerryError("EABORTED", "the transfer was aborted; run it again to resume");
}

/**
 * Ties a transfer to its AbortSignal. While the request waits its turn, an abort just drops it (the
 * connection is untouched). Once its frames are on the wire the stream cannot be cut cleanly, so an
 * abort breaks the connection: partials stay resumable and the caller reconnects.
 */
export class AbortScope {
  private onWire = false;
  private rejectQueued: ((err: FerryError) => void) | null = null;
  private readonly abortedWhileQueued: Promise<never> | null = null;

  constructor(
    private readonly signal: AbortSignal | undefined,
    private readonly conn: Connection,
  ) {
    if (signal === undefined) return;
    this.abortedWhileQueued = new Promise<never>((_resolve, reject) => {
      this.rejectQueued = reject;
    });
    this.abortedWhileQueued.catch(() => {});
    signal.addEventListener("abort", this.onAbort, { once: true });
  }

  get aborted(): boolean {
    return this.signal?.aborted === true;
  }

  throwIfAborted(): void {
    if (this.aborted) throw abortedError();
  }

  /** Waits for `promise` unless the signal fires first (use only before the request is on the wire). */
  race<T>(promise: Promise<T>): Promise<T> {
    if (this.abortedWhileQueued === null) return promise;
    this.throwIfAborted();
    return Promise.race([promise, this.abortedWhileQueued]);
  }

  /** From now on an abort breaks the connection. */
  goOnWire(): void {
    this.throwIfAborted();
    this.onWire = true;
  }

  /** The error the caller sees: EABORTED whenever the signal fired, whatever broke as a consequence. */
  error(err: unknown): FerryError {
    return this.aborted ? abortedError() : toFerryError(err, "EINTERNAL");
  }

  dispose(): void {
    this.signal?.removeEventListener("abort", this.onAbort);
  }

  private readonly onAbort = (): void => {
    if (this.onWire) {
      this.conn.fail(
        connectionLost("the connection was closed because a transfer was aborted; reconnect to resume"),
      );
    }
    this.rejectQueued?.(abortedError());
  };
}
