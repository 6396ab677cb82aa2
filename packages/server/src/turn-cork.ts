import type { Writable } from "node:stream";

/**
 * Holds a socket's writes back until the end of the current turn of the event loop, so that
 * everything written in one turn leaves in one write. A client's pipelined small requests arrive
 * many to a read and are answered in the same turn; one syscall per answer cost ~90 µs of the
 * sending thread each on loopback (the receiver's TCP work runs in the sender's context), the
 * largest single cost of a small put. Backpressure still holds: write() reports a full buffer while
 * corked and the uncork comes on its own, so a sender waiting for 'drain' never waits on itself.
 */
export class TurnCork {
  private held = false;

  constructor(private readonly out: Writable) {}

  /** Corks `out` unless it already is for this turn; it is uncorked once the turn is over. */
  hold(): void {
    if (this.held) return;
    this.held = true;
    this.out.cork();
    setImmediate(() => {
      this.held = false;
      this.out.uncork();
    });
  }
}
