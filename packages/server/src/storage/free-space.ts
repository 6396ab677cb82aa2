import { statfs } from "node:fs/promises";
import { FerryError } from "@ferry/protocol";

/** Uploads up to this size may be admitted on a free-space figure up to {@link SPACE_TTL_MS} old. */
export const SPACE_CACHE_MAX_BYTES = 1024 * 1024;
export const SPACE_TTL_MS = 1_000;

/**
 * Admission's free-space check. A statfs per file would be one of the biggest costs of a burst of
 * small puts, so small uploads are checked against a figure at most a second old; being off by a
 * few small files only moves their ENOSPC from admission to the write, which handles it the same
 * way (staging removed, clear error). Big uploads always get a fresh figure.
 */
export class FreeSpace {
  private known: { free: number; at: number } | null = null;

  constructor(private readonly root: string) {}

  /** Refuses an upload of `bytes` that cannot fit, before a byte of it is sent. */
  async assert(bytes: number): Promise<void> {
    if (bytes <= 0) return;
    const now = Date.now();
    let known = this.known;
    if (!known || bytes > SPACE_CACHE_MAX_BYTES || now - known.at > SPACE_TTL_MS || bytes > known.free) {
      const fs = await statfs(this.root);
      known = { free: fs.bavail * fs.bsize, at: now };
      this.known = known;
    }
    if (bytes > known.free) {
      throw new FerryError("ENOSPC", `not enough space: ${bytes} bytes needed, ${known.free} free`, {
        needed: bytes,
        free: known.free,
      });
    }
  }
}
