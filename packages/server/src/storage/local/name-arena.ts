import { FerryError } from "@ferry/protocol";

/** Per name: a one-byte length before its bytes, and its uint32 position. */
const OVERHEAD_PER_NAME = 1 + 4;
/**
 * Sorting a Uint32Array with a comparator copies it into a work array and merges through a second
 * one (V8), 8 bytes a slot each: held only while sort() runs.
 */
export const SORT_SCRATCH_PER_NAME = 16;
/** Positions are uint32. */
const MAX_ARENA_BYTES = 2 ** 32 - 1;

/**
 * Directory names held compactly, for sorting: their UTF-8 bytes, each after a one-byte length, in
 * one buffer, and a uint32 position per name. No object per name, so 200,000 names of 15 bytes take
 * 4 MB, outside the JS heap, and sorting allocates nothing per comparison.
 */
export class NameArena {
  private bytes: Buffer;
  private used = 0;
  private positions: Uint32Array;
  private count = 0;

  /** Bytes the arena takes for `names` names of `nameBytes` bytes in all. */
  static cost(names: number, nameBytes: number): number {
    return nameBytes + names * OVERHEAD_PER_NAME;
  }

  /** Sized for what a first pass over the directory counted; grows if more come. */
  constructor(names: number, nameBytes: number) {
    this.bytes = Buffer.allocUnsafeSlow(Math.max(1, nameBytes + names));
    this.positions = new Uint32Array(Math.max(1, names));
  }

  get length(): number {
    return this.count;
  }

  /** Bytes taken so far, by {@link NameArena.cost}. */
  get size(): number {
    return this.used + this.count * 4;
  }

  /** `name`: 1 to 255 bytes of UTF-8 (a name's length must fit its length byte). */
  add(name: string): void {
    const length = Buffer.byteLength(name);
    if (length === 0 || length > 255) throw new RangeError(`name of ${length} bytes`);
    const need = this.used + 1 + length;
    if (need > this.bytes.length) {
      if (need > MAX_ARENA_BYTES) throw new FerryError("ETOOBIG", "the directory's names exceed 4 GiB");
      // The directory grew since it was counted: rare, so a copy is fine.
      const bigger = Buffer.allocUnsafeSlow(
        Math.min(MAX_ARENA_BYTES, Math.max(need, Math.ceil(this.bytes.length * 1.25))),
      );
      this.bytes.copy(bigger, 0, 0, this.used);
      this.bytes = bigger;
    }
    if (this.count === this.positions.length) {
      const bigger = new Uint32Array(Math.ceil(this.positions.length * 1.25) + 16);
      bigger.set(this.positions);
      this.positions = bigger;
    }
    this.positions[this.count++] = this.used;
    this.bytes[this.used] = length;
    this.bytes.write(name, this.used + 1, "utf8");
    this.used = need;
  }

  /** Orders the names by their bytes (for UTF-8, that is code point order). */
  sort(): void {
    const bytes = this.bytes;
    this.positions.subarray(0, this.count).sort((p, q) => {
      const lp = bytes[p] as number;
      const lq = bytes[q] as number;
      const n = Math.min(lp, lq);
      for (let k = 1; k <= n; k++) {
        const d = (bytes[p + k] as number) - (bytes[q + k] as number);
        if (d !== 0) return d;
      }
      return lp - lq;
    });
  }

  /** The i-th name (in sorted order once sorted). */
  name(i: number): string {
    const p = this.positions[i] as number;
    return this.bytes.toString("utf8", p + 1, p + 1 + (this.bytes[p] as number));
  }
}
