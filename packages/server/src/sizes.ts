const UNITS: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** "1048576", "500M", "10G", "2TiB" → bytes (powers of 1024); undefined for anything else or past 2^53. */
export function parseSize(raw: string): number | undefined {
  const m = /^(\d+)([KMGT]?)(?:i?B)?$/i.exec(raw.trim());
  const unit = m ? UNITS[(m[2] ?? "").toUpperCase()] : undefined;
  if (!m || unit === undefined) return undefined;
  const v = Number(m[1]) * unit;
  return Number.isSafeInteger(v) ? v : undefined;
}
