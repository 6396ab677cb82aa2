import { createRequire } from "node:module";
import type * as CliProgress from "cli-progress";
import { humanDuration, humanRate, humanSize, percent } from "./format.js";

export interface ProgressLike {
  bytes: number;
  total: number;
  rate: number;
  /** "verifying": every byte moved, the check and sync are under way (see the library's Progress). */
  phase?: string;
}

let loaded: typeof CliProgress | undefined;

/**
 * cli-progress is loaded when the first bar is drawn: a command without bars (-c, --no-progress, no
 * terminal) should not pay for loading it at start-up. It is CommonJS, so `require` loads it
 * synchronously and Bars stays synchronous.
 */
function cliProgress(): typeof CliProgress {
  loaded ??= createRequire(import.meta.url)("cli-progress") as typeof CliProgress;
  return loaded;
}

/** At most this many redraws a second, however often progress is reported. */
export const BARS_FPS = 10;
const LABEL_WIDTH = 24;
const LABEL_MIN = 8;
const BAR_WIDTH = 20;
const BAR_MIN = 5;
/** Without a width (not a terminal that says), the width of the classic terminal. */
const DEFAULT_COLUMNS = 80;

function fit(label: string, width: number): string {
  const chars = [...label];
  if (chars.length <= width) return label.padEnd(width);
  return `…${chars.slice(chars.length - width + 1).join("")}`;
}

interface Payload {
  label: string;
  /** The detail, from the most to the least needed part: parts are dropped from the end to fit. */
  detail: string[];
}

/**
 * `label [bar] detail`, no wider than `columns - 1`: a line as wide as the terminal (or wider) would
 * wrap, and the bars' redraw, which counts one row per bar, would then overwrite the lines above.
 * The bar, then the label shrink first; then the detail loses its last parts (ETA, then the rate).
 */
export function barLine(
  columns: number,
  label: string,
  progress: number,
  payload: string[],
  options: CliProgress.Options,
): string {
  const width = Math.max(20, columns - 1);
  const parts = [...payload];
  for (;;) {
    const detail = parts.join(" ");
    const room = width - 4 - [...detail].length;
    const labelWidth = Math.min(LABEL_WIDTH, Math.max(LABEL_MIN, room - BAR_MIN));
    const barWidth = Math.min(BAR_WIDTH, room - labelWidth);
    if (barWidth >= BAR_MIN || parts.length <= 1) {
      const bar = cliProgress().Format.BarFormat(progress, {
        ...options,
        barsize: Math.max(BAR_MIN, barWidth),
      });
      return `${fit(label, labelWidth)} [${bar}] ${detail}`;
    }
    parts.pop();
  }
}

/** `45% 12.0 MiB/64.0 MiB 300.0 MiB/s ETA 3s`, or `100% 64.0 MiB/64.0 MiB verifying` at the end. */
export function fileDetail(p: ProgressLike): string {
  return fileParts(p).join(" ");
}

function fileParts(p: ProgressLike): string[] {
  const amount = `${percent(p.bytes, p.total).padStart(4)} ${humanSize(p.bytes)}/${humanSize(p.total)}`;
  if (p.phase === "verifying") return [amount, "verifying"];
  if (p.phase === "done") return [amount, humanRate(p.rate)];
  const eta = p.rate > 0 ? humanDuration((p.total - p.bytes) / p.rate) : "--";
  return [amount, humanRate(p.rate), `ETA ${eta}`];
}

/** `45% 12/30 files 1.2 GiB/2.0 GiB 300.0 MiB/s ETA 3s` */
export function batchDetail(filesDone: number, files: number, p: ProgressLike): string {
  return batchParts(filesDone, files, p).join(" ");
}

function batchParts(filesDone: number, files: number, p: ProgressLike): string[] {
  const eta = p.rate > 0 ? humanDuration((p.total - p.bytes) / p.rate) : "--";
  return [
    `${percent(p.bytes, p.total).padStart(4)} ${filesDone}/${files} files`,
    `${humanSize(p.bytes)}/${humanSize(p.total)}`,
    humanRate(p.rate),
    `ETA ${eta}`,
  ];
}

/**
 * Progress bars on a terminal (cli-progress). One bar per file for single transfers; for
 * mput/mget an overall bar plus a bar for whichever file last reported progress. cli-progress
 * redraws on its own timer, so redraws stay at BARS_FPS however small the chunks are.
 */
export class Bars {
  private readonly multi: CliProgress.MultiBar;
  private overall: CliProgress.SingleBar | null = null;
  private current: CliProgress.SingleBar | null = null;
  private stopped = false;

  constructor(stream: NodeJS.WritableStream & { columns?: number }) {
    this.multi = new (cliProgress().MultiBar)({
      stream,
      fps: BARS_FPS,
      format: (options, params, payload: Payload) =>
        barLine(stream.columns || DEFAULT_COLUMNS, payload.label, params.progress, payload.detail, options),
      barsize: BAR_WIDTH,
      hideCursor: true,
      clearOnComplete: true,
      // cli-progress turns the terminal's line wrap off by default: a result line longer than the
      // terminal then loses its end ("…md5 ok" becomes "…tk"). Bar lines fit the width (barLine);
      // lines logged above them wrap as any output does.
      linewrap: true,
      // We stop the bars ourselves on Ctrl-C; cli-progress' own SIGINT hook would stay behind.
      gracefulExit: false,
      barCompleteChar: "█",
      barIncompleteChar: "░",
      emptyOnZero: false,
    });
  }

  startBatch(files: number, bytes: number): void {
    this.overall = this.multi.create(Math.max(bytes, 1), 0, {
      label: "total",
      detail: batchParts(0, files, { bytes: 0, total: bytes, rate: 0 }),
    });
  }

  updateBatch(filesDone: number, files: number, p: ProgressLike): void {
    this.overall?.update(p.total > 0 ? p.bytes : 1, { detail: batchParts(filesDone, files, p) });
  }

  /** Shows `label` on the file bar (created on first use). */
  updateFile(label: string, p: ProgressLike): void {
    const value = p.total > 0 ? p.bytes : 1;
    const total = Math.max(p.total, 1);
    const payload = { label, detail: fileParts(p) };
    if (!this.current) {
      this.current = this.multi.create(total, value, payload);
    } else {
      if (this.current.getTotal() !== total) this.current.setTotal(total);
      this.current.update(value, payload);
    }
  }

  /** A line printed above the bars (kept after they are cleared). */
  log(line: string): void {
    this.multi.log(`${line}\n`);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    // Flush lines logged since the last redraw; stop() alone would drop them.
    this.multi.update();
    this.multi.stop();
  }
}
