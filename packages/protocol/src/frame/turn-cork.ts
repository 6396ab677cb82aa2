import type { Writable } from "node:stream";

/**
 * Holds a socket's writes back until the end of the current turn of the event loop, so that
 * everything written in one turn leaves in one write. Pipelined small requests (and their answers)
 * come many to a turn; one syscall each cost ~90 µs of the sending thread on loopback (the
 * receiver's TCP work runs in the sender's context), the largest single cost of a small file.
 * Backpressure still holds: write() reports a full buffer while corked, and drained() flushes the
 * cork before it waits, so a sender waiting for 'drain' never waits on itself; later writes of the
 * same turn are held again.
 */
export class TurnCork {
  private held = false;

  constructor(private readonly out: Writable) {}

  /** Corks `out` unless it already is for this turn; it is uncorked once the turn is over. */
  hold(): void {
    if (this.held) {
      // drained() flushed it mid-turn: hold what comes next.
      if (this.out.writableCorked === 0) this.out.cork();
      return;
    }
    this.held = true;
    this.out.cork();
    setImmediate(() => {
      this.held = false;
      // Every other cork is undone within its own turn; this one may already be (drained()).
      if (this.out.writableCorked > 0) this.out.uncork();
    });
  }
}
