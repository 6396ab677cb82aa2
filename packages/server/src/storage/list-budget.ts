import { FerryError } from "@ferry/protocol";

/**
 * The names of one listing up to this many bytes are not counted against the shared budget, so a
 * small directory lists even while big listings hold all of it. A connection runs one listing at a
 * time, so what goes uncounted is bounded by the connection limit (256 × 64 KiB = 16 MiB).
 */
export const UNCOUNTED_LIST_BYTES = 64 * 1024;

/**
 * Memory that the listings in progress on one server may hold for their names, together. A listing
 * must hold every name of a directory before its first entry can go out (the output is sorted), so
 * without a bound N clients that list a huge directory and never read would hold N copies of it.
 */
export class ListBudget {
  private used = 0;

  constructor(
    readonly limit: number,
    readonly uncountedPerListing = UNCOUNTED_LIST_BYTES,
  ) {}

  /** Bytes counted for all listings in progress. */
  get inUse(): number {
    return this.used;
  }

  /** The share of one listing; `close()` it when the listing ends, however it ends. */
  open(): ListShare {
    return new ListShare(this.limit, this.uncountedPerListing, (delta) => {
      if (delta > 0 && this.used + delta > this.limit) return false;
      this.used += delta;
      return true;
    });
  }
}

/** What one listing holds: taken name by name as the directory is read, given back as names go out. */
export class ListShare {
  private held = 0;
  private counted = 0;

  constructor(
    private readonly limit: number,
    private readonly uncounted: number,
    private readonly move: (delta: number) => boolean,
  ) {}

  /**
   * Holds `bytes` more, or throws without taking anything: ETOOBIG when this listing alone would not
   * fit in the whole budget, EBUSY when it would but other listings hold the rest.
   */
  take(bytes: number): void {
    const counted = Math.max(0, this.held + bytes - this.uncounted);
    if (!this.move(counted - this.counted)) {
      if (counted > this.limit) {
        throw new FerryError(
          "ETOOBIG",
          `the directory is too large to list: its names need more than the server's ${this.limit}-byte listing memory`,
          { limit: this.limit },
        );
      }
      throw new FerryError("EBUSY", "too many large listings in progress; try again", { limit: this.limit });
    }
    this.held += bytes;
    this.counted = counted;
  }

  give(bytes: number): void {
    this.held = Math.max(0, this.held - bytes);
    const counted = Math.max(0, this.held - this.uncounted);
    this.move(counted - this.counted);
    this.counted = counted;
  }

  /** Gives back everything; harmless twice. */
  close(): void {
    this.give(this.held);
  }
}
