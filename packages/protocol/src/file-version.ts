/** The fields of a file's stat (Node's `Stats` has them all) that a write to the file moves. */
export interface FileVersion {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
  readonly dev: number;
}

/**
 * Whether two stats of one open file describe the same version of it. A sender hashes a file while
 * it reads it; if another program writes to the file meanwhile, the bytes read may be a mix of two
 * versions, a file that never existed. So before it vouches for them with an md5, a sender compares
 * the stat taken when it opened the file with an fstat of the handle after the last read, and fails
 * with `ECHANGED` when they differ.
 *
 * ctime also moves on a chmod or a new hard link: such a false alarm costs a retry, where a miss
 * would vouch for torn bytes. What stat cannot show is a write of the same size within the
 * timestamp tick of the file's previous change (a few milliseconds on some filesystems).
 */
export function sameFileVersion(a: FileVersion, b: FileVersion): boolean {
  return (
    a.size === b.size &&
    a.mtimeMs === b.mtimeMs &&
    a.ctimeMs === b.ctimeMs &&
    a.ino === b.ino &&
    a.dev === b.dev
  );
}
