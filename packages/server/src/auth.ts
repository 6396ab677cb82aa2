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

/** The backoff after the second failure in a row; it doubles with each further one. */
export const AUTH_BACKOFF_BASE_MS = 100;
/** The longest backoff, reached after about seven failures in a row. */
export const AUTH_BACKOFF_MAX_MS = 5_000;
/** An address quiet this long after its last failure starts again from nothing. */
export const AUTH_FORGET_AFTER_MS = 15 * 60_000;
/** Addresses remembered at once; past that the one that failed longest ago is forgotten. */
export const AUTH_MAX_ADDRESSES = 10_000;

export interface AuthBackoffOptions {
  baseMs?: number;
  maxMs?: number;
  forgetAfterMs?: number;
  maxAddresses?: number;
}

interface Failures {
  count: number;
  last: number;
  /** No auth from this address is checked before this time. */
  until: number;
}

/**
 * Slows down guessing per address, across all of its connections. The n-th failed auth in a row puts
 * the address in backoff for base · 2^(n-2), capped (the first costs nothing: a typo), and while it
 * is in backoff its auths are refused unchecked (and new connections at hello), so an address gets at
 * most one guess per backoff period however many connections it opens. The caller checks
 * {@link waitMs}, then the answer, then reports {@link fail}, with no await between: parallel
 * attempts cannot slip in between the check and the record.
 *
 * Delaying each failed answer instead (the old way) bounds nothing: 32 connections wait in parallel.
 * Memory is bounded: at most `maxAddresses` entries, the longest quiet forgotten first.
 */
export class AuthBackoff {
  /** In order of last failure, oldest first (a failure moves its address to the end). */
  private readonly failures = new Map<string, Failures>();
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly forgetAfterMs: number;
  private readonly maxAddresses: number;

  constructor(options: AuthBackoffOptions = {}) {
    this.baseMs = options.baseMs ?? AUTH_BACKOFF_BASE_MS;
    this.maxMs = options.maxMs ?? AUTH_BACKOFF_MAX_MS;
    this.forgetAfterMs = options.forgetAfterMs ?? AUTH_FORGET_AFTER_MS;
    this.maxAddresses = Math.max(1, options.maxAddresses ?? AUTH_MAX_ADDRESSES);
  }

  /** Addresses remembered now. */
  get size(): number {
    return this.failures.size;
  }

  /** How long `addr` must wait before an auth of its is checked again; 0 when it may try now. */
  waitMs(addr: string, now = Date.now()): number {
    const f = this.recent(addr, now);
    return f ? Math.max(0, f.until - now) : 0;
  }

  /** Records a failed check from `addr` and returns the backoff it starts (0 for a first failure). */
  fail(addr: string, now = Date.now()): number {
    const count = (this.recent(addr, now)?.count ?? 0) + 1;
    const delay = count <= 1 ? 0 : Math.min(this.maxMs, this.baseMs * 2 ** Math.min(count - 2, 30));
    this.failures.delete(addr);
    this.failures.set(addr, { count, last: now, until: now + delay });
    for (const oldest of this.failures.keys()) {
      if (this.failures.size <= this.maxAddresses) break;
      this.failures.delete(oldest);
    }
    return delay;
  }

  /** A success forgets this address only. */
  succeed(addr: string): void {
    this.failures.delete(addr);
  }

  private recent(addr: string, now: number): Failures | undefined {
    const f = this.failures.get(addr);
    if (f && now - f.last > this.forgetAfterMs) {
      this.failures.delete(addr);
      return undefined;
    }
    return f;
  }
}
