/** How long a directory seen to exist is taken to exist without asking the store again. */
export const KNOWN_DIR_TTL_MS = 2000;
/** Directories remembered at once. */
export const KNOWN_DIRS_MAX = 10_000;

/**
 * Directories this server saw exist a moment ago, so a burst of puts into one directory asks the
 * store about their parent once rather than once per file. This server forgets them all at each of
 * its deletes and renames; a directory another ferryd removed can be taken to exist for up to
 * {@link KNOWN_DIR_TTL_MS}, and a put in that window recreates it (as a prefix of the new file).
 */
export class KnownDirs {
  private readonly until = new Map<string, number>();

  has(prefix: string, now = Date.now()): boolean {
    const t = this.until.get(prefix);
    if (t === undefined) return false;
    if (t > now) return true;
    this.until.delete(prefix);
    return false;
  }

  add(prefix: string, now = Date.now()): void {
    this.until.delete(prefix);
    this.until.set(prefix, now + KNOWN_DIR_TTL_MS);
    if (this.until.size > KNOWN_DIRS_MAX) this.until.delete(this.until.keys().next().value as string);
  }

  forget(): void {
    this.until.clear();
  }
}
