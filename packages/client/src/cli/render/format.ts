import { humanSize } from "@ferry/protocol";

export { humanSize };

export function humanRate(bytesPerSecond: number): string {
  if (!Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) return "-- B/s";
  return `${humanSize(bytesPerSecond)}/s`;
}

/** `7s`, `2m05s`, `1h02m`; `--` when unknown. */
export function humanDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

const pad2 = (n: number): string => String(n).padStart(2, "0");

/** Local time as `YYYY-MM-DD HH:MM`, the column format of `ls`. */
export function formatMtime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

export function percent(done: number, total: number): string {
  if (total <= 0) return "100%";
  return `${Math.min(100, Math.floor((done / total) * 100))}%`;
}
