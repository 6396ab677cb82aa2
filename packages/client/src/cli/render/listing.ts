import type { Entry } from "@ferry/protocol";
import { printable } from "../../lib/index.js";
import { formatMtime, humanSize } from "./format.js";

const TYPE_CHAR: Record<string, string> = { file: "-", dir: "d", symlink: "l", other: "?" };

/** How `ls`/`lls` show entries: their flags, read once. */
export interface ListingStyle {
  /** -l */
  long: boolean;
  /** -1: one name per line even on a terminal. */
  onePerLine: boolean;
  /** -a: names starting with a dot too. */
  all: boolean;
  /** -t: newest first. */
  byTime: boolean;
  /** -S: largest first. */
  bySize: boolean;
  /** -r */
  reverse: boolean;
  /** -R */
  recursive: boolean;
  /** -h: sizes as 1.2 MiB in the long format. */
  human: boolean;
}

export const LISTING_FLAGS = "l1atSrRh";

export function listingStyle(flags: ReadonlySet<string>): ListingStyle {
  return {
    long: flags.has("l"),
    onePerLine: flags.has("1"),
    all: flags.has("a"),
    byTime: flags.has("t"),
    bySize: flags.has("S"),
    reverse: flags.has("r"),
    recursive: flags.has("R"),
    human: flags.has("h"),
  };
}

/** The entries to show of a directory, in the order to show them (the server sends them by name). */
export function arrange(entries: readonly Entry[], style: ListingStyle): Entry[] {
  const shown = style.all ? [...entries] : entries.filter((e) => !e.name.startsWith("."));
  // Array.prototype.sort is stable: equal times or sizes keep the name order.
  if (style.bySize) shown.sort((a, b) => b.size - a.size);
  else if (style.byTime) shown.sort((a, b) => b.mtime - a.mtime);
  if (style.reverse) shown.reverse();
  return shown;
}

/** A printable name, with `/` after directories. */
export function shownName(e: Entry): string {
  return `${printable(e.name)}${e.type === "dir" ? "/" : ""}`;
}

/** Long listing lines: type, size (right-aligned), mtime, printable name (`/` after directories). */
export function longLines(entries: readonly Entry[], human: boolean): string[] {
  const sizes = entries.map((e) => (human ? humanSize(e.size) : String(e.size)));
  const width = Math.max(0, ...sizes.map((s) => s.length));
  return entries.map(
    (e, i) =>
      `${TYPE_CHAR[e.type] ?? "?"} ${(sizes[i] as string).padStart(width)}  ${formatMtime(e.mtime)}  ${shownName(e)}`,
  );
}

const GAP = 2;

/**
 * Names in columns that fit `width`, filled top to bottom then left to right, as ls and sftp lay
 * them out on a terminal.
 */
export function columnLines(names: readonly string[], width: number): string[] {
  if (names.length === 0) return [];
  const lengths = names.map((n) => [...n].length);
  for (let cols = Math.min(names.length, Math.max(1, Math.floor(width / (1 + GAP)))); cols > 1; cols--) {
    const rows = Math.ceil(names.length / cols);
    const widths = Array.from({ length: cols }, (_, c) =>
      Math.max(0, ...lengths.slice(c * rows, (c + 1) * rows)),
    );
    if (widths.reduce((a, b) => a + b, 0) + GAP * (cols - 1) > width) continue;
    return Array.from({ length: rows }, (_, r) => {
      let line = "";
      for (let c = 0; c < cols; c++) {
        const i = c * rows + r;
        if (i >= names.length) break;
        const name = names[i] as string;
        const last = c === cols - 1 || (c + 1) * rows + r >= names.length;
        line += last ? name : name + " ".repeat((widths[c] as number) - (lengths[i] as number) + GAP);
      }
      return line;
    });
  }
  return [...names];
}

/** The lines for entries in a style: long, one per line, or columns on a terminal of `columns`. */
export function listingLines(
  entries: readonly Entry[],
  style: ListingStyle,
  columns: number | null,
): string[] {
  if (style.long) return longLines(entries, style.human);
  const names = entries.map(shownName);
  return style.onePerLine || columns === null ? names : columnLines(names, columns);
}
