import { randomBytes } from "node:crypto";
import { authAnswer, safeEqualHex } from "@ferry/protocol";

/** A fresh 32-byte challenge, hex, for one connection. */
export function newChallenge(): string {
  return randomBytes(32).toString("hex");
}

/** Constant-time check of a client's HMAC-SHA256 answer. */
export function checkAnswer(secret: string, challenge: string, answer: string): boolean {
  return safeEqualHex(authAnswer(secret, challenge), answer);
}

const FORGET_AFTER_MS = 15 * 60_000;
const MAX_DELAY_MS = 5_000;

/**
 * Slows down guessing: the n-th failed auth from one address in a row waits 100 ms · 2^(n-2) (the
 * first is answered at once, a typo costs nothing), capped at 5 s. A success or 15 quiet minutes
 * forget the address.
 */
export class AuthBackoff {
  private readonly failures = new Map<string, { count: number; last: number }>();

  /** Records a failure and returns how long to wait before answering it. */
  fail(addr: string, now = Date.now()): number {
    this.prune(now);
    const prev = this.failures.get(addr);
    const recent = prev && now - prev.last <= FORGET_AFTER_MS ? prev.count : 0;
    const count = recent + 1;
    this.failures.set(addr, { count, last: now });
    return count <= 1 ? 0 : Math.min(MAX_DELAY_MS, 100 * 2 ** (count - 2));
  }

  succeed(addr: string): void {
    this.failures.delete(addr);
  }

  private prune(now: number): void {
    if (this.failures.size < 1024) return;
    for (const [addr, f] of this.failures) if (now - f.last > FORGET_AFTER_MS) this.failures.delete(addr);
  }
}
