const UNITS: Readonly<Record<string, number>> = {
  "": 1,
  K: 1024,
  M: 1024 ** 2,
  G: 1024 ** 3,
  T: 1024 ** 4,
};

/**
 * A rate as people type it, in bytes per second: `1048576`, `500K`, `10M`, `1.5G`, `10MiB`, `10M/s`
 * (binary units, as curl's --limit-rate reads them). Null when it is not one, or not at least one
 * byte per second. (A size, where 0 is fine and `/s` is not, is ferryd's parseSize.)
 */
export function parseByteRate(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?(?:\/s)?$/i.exec(text.trim());
  const unit = m ? UNITS[(m[2] ?? "").toUpperCase()] : undefined;
  if (!m || unit === undefined) return null;
  const bytes = Math.round(Number(m[1]) * unit);
  return Number.isSafeInteger(bytes) && bytes >= 1 ? bytes : null;
}
