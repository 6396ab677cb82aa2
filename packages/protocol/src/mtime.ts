/**
 * The seconds to hand `utimes`/`futimes` so that a file's mtime reads back as `ms` (milliseconds
 * since the epoch, as the protocol carries it, `Math.floor(stat.mtimeMs)`). Plain `ms / 1000` is
 * not it: libuv splits the double into seconds and nanoseconds, and the float error of the fraction
 * (0.123 is 0.12299990…) leaves about half of all mtimes one millisecond early. Half a millisecond
 * more keeps every one of them inside its millisecond.
 */
export function utimesSeconds(ms: number): number {
  return (ms + 0.5) / 1000;
}

/** A stat's mtime as the protocol carries it: whole milliseconds since the epoch, never negative. */
export function mtimeOf(st: { mtimeMs: number }): number {
  return Math.max(0, Math.floor(st.mtimeMs));
}
