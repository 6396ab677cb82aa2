const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/**
 * `0 B`, `512 B`, `1.0 KiB`, `64.0 MiB`: binary units, one decimal above bytes. Shared by the
 * server's messages (a limit in ETOOBIG) and the client's output, so both speak the same sizes.
 */
export function humanSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "?";
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  // 1023.96 KiB would print as "1024.0 KiB"; move it up a unit instead.
  if (value.toFixed(1) === "1024.0" && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${UNITS[unit]}`;
}
