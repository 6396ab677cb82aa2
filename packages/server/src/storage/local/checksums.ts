/** The identity of a file's contents as far as the cache is concerned. */
export interface FileIdentity {
  size: number;
  mtimeMs: number;
  ino: number;
}

interface Known extends FileIdentity {
  md5: string;
}

/**
 * md5s the server has verified (on upload) or computed (on a download), keyed by real path and valid
 * only while size, mtime and inode still match, so a file changed behind the server's back is hashed
 * again. Bounded: the least recently used entries go first.
 */
export class ChecksumCache {
  private readonly entries = new Map<string, Known>();

  constructor(private readonly max = 100_000) {}

  get(file: string, id: FileIdentity): string | undefined {
    const known = this.entries.get(file);
    if (!known) return undefined;
    if (known.size !== id.size || known.mtimeMs !== id.mtimeMs || known.ino !== id.ino) {
      this.entries.delete(file);
      return undefined;
    }
    this.entries.delete(file);
    this.entries.set(file, known);
    return known.md5;
  }

  set(file: string, id: FileIdentity, md5: string): void {
    this.entries.delete(file);
    this.entries.set(file, { size: id.size, mtimeMs: id.mtimeMs, ino: id.ino, md5 });
    if (this.entries.size > this.max) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }
}
