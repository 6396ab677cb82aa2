import { FerryError, toFerryError } from "@ferry/protocol";
import type { Connection } from "./connection.js";
import { connectionLost } from "./errors.js";

export function abortedError(): FerryError {
  return new FerryError("EABORTED", "the transfer was aborted; run it again to resume");
}

/**
 * The scopes of each signal, fed by one listener on it. A listener per scope was O(n) to add and to
 * remove (Node's EventTarget scans its listeners for a duplicate each time): a window of 1,024
 * transfers on one command's signal made every transfer's start and end cost a scan of all the others.
 */
const scopesOf = new WeakMap<AbortSignal, Set<AbortScope>>();

/** The set of `signal`'s scopes, made with the signal's one listener the first time. */
function scopesFor(signal: AbortSignal): Set<AbortScope> {
  const known = scopesOf.get(signal);
  if (known !== undefined) return known;
  const scopes = new Set<AbortScope>();
  scopesOf.set(signal, scopes);
  signal.addEventListener(
    "abort",
    () => {
      // In the order they began, as their own listeners fired; each scope is told once.
      const told = [...scopes];
      scopes.clear();
      scopesOf.delete(signal);
      for (const s of told) s.signalled();
    },
    { once: true },
  );
  return scopes;
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
    scopesFor(signal).add(this);
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
    if (this.signal !== undefined) scopesOf.get(this.signal)?.delete(this);
  }

  /** The signal fired (called once, by its one listener). */
  signalled(): void {
    if (this.onWire) {
      this.conn.fail(
        connectionLost("the connection was closed because a transfer was aborted; reconnect to resume"),
      );
    }
    this.rejectQueued?.(abortedError());
  }
}
