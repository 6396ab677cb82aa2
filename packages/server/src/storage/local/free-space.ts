import { statfs } from "node:fs/promises";
import { FerryError, humanSize } from "@ferry/protocol";

/** Uploads up to this size may be admitted on a free-space figure up to {@link SPACE_TTL_MS} old. */
export const SPACE_CACHE_MAX_BYTES = 1024 * 1024;
export const SPACE_TTL_MS = 1_000;

/**
 * Bytes an upload holds from admission until it ends, so that uploads admitted side by side cannot
 * promise the same free space twice. It ends exactly once, by `commit` or `release`; any later call
 * is a no-op, so every road out of an upload may call `release` without counting. The shape is meant
 * to be shared: a per-user quota can hand out the same object (bytes, and a file) later.
 */
export interface Reservation {
  /** `n` of the reserved bytes were handed to the disk: its own free figure shows them from now on. */
  wrote(n: number): void;
  /** The upload is under its real name: every byte it reserved is on the disk now. */
  commit(): void;
  /** The upload ended without a commit (refused, failed, or kept as a partial); the bytes it never wrote are free again. */
  release(): void;
}

/** Where reservations come from: the disk's free space today, a user's quota as well one day. */
export interface SpaceReserver {
  /** A reservation of `bytes`, or ENOSPC when they do not fit beside those already held. */
  reserve(bytes: number): Promise<Reservation>;
}

/** Bytes the disk reports free (statfs), for a root. */
export type FreeBytes = () => Promise<number>;

/** Bytes of the disk in all (statfs), for a root. */
export type TotalBytes = () => Promise<number>;

/** The sums over every live reservation, shared by the reservations and their {@link FreeSpace}. */
interface Ledger {
  /** Bytes reserved and not yet written. */
  outstanding: number;
  /** Bytes reservations have written since the server started; always grows. */
  written: number;
}

/** A statfs figure, and how much had been written when it was taken. */
interface Measure {
  readonly free: number;
  readonly written: number;
  readonly at: number;
}

/**
 * Admission's free-space check, with reservations: an upload is admitted only if its bytes fit in
 * what statfs reports minus what uploads in progress have reserved and not yet written, and it then
 * holds those bytes until it ends. So two uploads of 60 % of the free space cannot both be admitted.
 *
 * Bytes are counted twice nowhere: an upload reports what it writes (`wrote`), which moves those
 * bytes from "reserved" into the disk's own figure. A figure is only as new as its statfs, so the
 * bytes written since are subtracted from it too; that is what lets small uploads (the fast path of
 * a burst of small puts, where a statfs per file would be one of the biggest costs) be admitted on a
 * figure up to a second old, with a reservation that costs a few additions. The remaining error is
 * what was in write buffers (not yet on disk) at the statfs, bounded by the write budget; being off
 * by that only moves an ENOSPC from admission to the write, which handles it the same way (staging
 * removed, clear error). Big uploads always get a fresh figure.
 */
export class FreeSpace implements SpaceReserver {
  private known: Measure | null = null;
  private readonly ledger: Ledger = { outstanding: 0, written: 0 };
  private readonly freeBytes: FreeBytes;
  private readonly totalBytes: TotalBytes;
  private readonly now: () => number;

  constructor(
    root: string,
    options: { freeBytes?: FreeBytes; totalBytes?: TotalBytes; now?: () => number } = {},
  ) {
    this.freeBytes =
      options.freeBytes ??
      (async () => {
        const fs = await statfs(root);
        return fs.bavail * fs.bsize;
      });
    this.totalBytes =
      options.totalBytes ??
      (async () => {
        const fs = await statfs(root);
        return fs.blocks * fs.bsize;
      });
    this.now = options.now ?? Date.now;
  }

  /** For df: what an upload could still get now (a fresh figure less what is held), and the disk's size. */
  async usage(): Promise<{ free: number; total: number }> {
    const [known, total] = await Promise.all([this.measure(), this.totalBytes()]);
    return { free: Math.max(0, this.available(known)), total };
  }

  /** Bytes reserved by uploads in progress and not yet written. */
  get reserved(): number {
    return this.ledger.outstanding;
  }

  /** Reserves `bytes` (the bytes still to come: a resumed upload counts only the rest), before a byte of them is sent. */
  async reserve(bytes: number): Promise<Reservation> {
    // Nothing to hold still gets a reservation: a resumed upload that starts over writes all the same.
    if (bytes <= 0) return new Hold(this.ledger, 0);
    let known = this.known;
    if (
      !known ||
      bytes > SPACE_CACHE_MAX_BYTES ||
      this.now() - known.at > SPACE_TTL_MS ||
      bytes > this.available(known)
    ) {
      known = await this.measure();
    }
    // From here to the hold nothing awaits: a reservation racing this one sees it.
    const available = this.available(known);
    if (bytes > available) {
      const free = Math.max(0, available);
      const reserved = this.ledger.outstanding;
      throw new FerryError(
        "ENOSPC",
        `not enough space: ${humanSize(bytes)} needed, ${humanSize(free)} free` +
          (reserved > 0 ? ` (after ${humanSize(reserved)} held by uploads in progress)` : ""),
        { needed: bytes, free, reserved },
      );
    }
    return new Hold(this.ledger, bytes);
  }

  private available(known: Measure): number {
    return known.free - (this.ledger.written - known.written) - this.ledger.outstanding;
  }

  private async measure(): Promise<Measure> {
    // Taken before the statfs: bytes written while it runs are then subtracted once too often, never missed.
    const written = this.ledger.written;
    const at = this.now();
    const measured: Measure = { free: await this.freeBytes(), written, at };
    if (!this.known || this.known.at <= at) this.known = measured;
    return measured;
  }
}

class Hold implements Reservation {
  private left: number;
  private ended = false;

  constructor(
    private readonly ledger: Ledger,
    bytes: number,
  ) {
    this.left = bytes;
    ledger.outstanding += bytes;
  }

  wrote(n: number): void {
    if (this.ended || n <= 0) return;
    // Bytes past the reservation (a resumed upload that starts over) are on the disk all the same.
    this.ledger.written += n;
    const mine = Math.min(n, this.left);
    this.left -= mine;
    this.ledger.outstanding -= mine;
  }

  commit(): void {
    if (this.ended) return;
    this.ledger.written += this.left; // whatever was not reported as written is on the disk now
    this.end();
  }

  release(): void {
    if (this.ended) return;
    this.end();
  }

  private end(): void {
    this.ended = true;
    this.ledger.outstanding -= this.left;
    this.left = 0;
  }
}
