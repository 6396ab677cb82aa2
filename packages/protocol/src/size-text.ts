const UNITS: Readonly<Record<string, number>> = {
  "": 1,
  K: 1024,
  M: 1024 ** 2,
  G: 1024 ** 3,
  T: 1024 ** 4,
};

/**
 * A size or rate as people type it: `1048576`, `500K`, `10M`, `1.5G`, `10MiB`, `10M/s` (binary
 * units, as curl's --limit-rate and ferryd's --max-file-size read them). Null when it is not one,
 * or not a whole number of bytes of at least 1.
 */
export function parseByteSize(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?(?:\/s)?$/i.exec(text.trim());
  const unit = m ? UNITS[(m[2] ?? "").toUpperCase()] : undefined;
  if (!m || unit === undefined) return null;
  const bytes = Math.round(Number(m[1]) * unit);
  return Number.isSafeInteger(bytes) && bytes >= 1 ? bytes : null;
}
