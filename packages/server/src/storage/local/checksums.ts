import type { HashAlgorithm } from "@ferry/protocol";

/** The identity of a file's contents as far as the cache is concerned. */
export interface FileIdentity {
  size: number;
  mtimeMs: number;
  ino: number;
}

interface Known extends FileIdentity {
  /** What is known of this version, per algorithm: an md5 is no answer to a question in xxh128. */
  hashes: Partial<Record<HashAlgorithm, string>>;
}

/**
 * Hashes the server has verified (on upload) or computed (on a download), keyed by real path and
 * algorithm, valid only while size, mtime and inode still match, so a file changed behind the
 * server's back is hashed again. Bounded: the least recently used files go first.
 */
export class ChecksumCache {
  private readonly entries = new Map<string, Known>();

  constructor(private readonly max = 100_000) {}

  get(file: string, id: FileIdentity, alg: HashAlgorithm = "md5"): string | undefined {
    const known = this.entries.get(file);
    if (!known) return undefined;
    if (!sameVersion(known, id)) {
      this.entries.delete(file);
      return undefined;
    }
    this.entries.delete(file);
    this.entries.set(file, known);
    return known.hashes[alg];
  }

  set(file: string, id: FileIdentity, alg: HashAlgorithm, hash: string): void {
    const before = this.entries.get(file);
    this.entries.delete(file);
    const hashes = before && sameVersion(before, id) ? { ...before.hashes, [alg]: hash } : { [alg]: hash };
    this.entries.set(file, { size: id.size, mtimeMs: id.mtimeMs, ino: id.ino, hashes });
    if (this.entries.size > this.max) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }
}

function sameVersion(a: FileIdentity, b: FileIdentity): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}
