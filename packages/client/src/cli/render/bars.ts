import cliProgress from "cli-progress";
import { humanDuration, humanRate, humanSize, percent } from "./format.js";

export interface ProgressLike {
  bytes: number;
  total: number;
  rate: number;
}

/** At most this many redraws a second, however often progress is reported. */
export const BARS_FPS = 10;
const LABEL_WIDTH = 24;

function fit(label: string, width: number): string {
  const chars = [...label];
  if (chars.length <= width) return label.padEnd(width);
  return `…${chars.slice(chars.length - width + 1).join("")}`;
}

interface Payload {
  label: string;
  detail: string;
}

function formatLine(options: cliProgress.Options, params: cliProgress.Params, payload: Payload): string {
  const bar = cliProgress.Format.BarFormat(params.progress, options);
  return `${fit(payload.label, LABEL_WIDTH)} [${bar}] ${payload.detail}`;
}

/** `45% 12.0 MiB/64.0 MiB 300.0 MiB/s ETA 3s` */
export function fileDetail(p: ProgressLike): string {
  const eta = p.rate > 0 ? humanDuration((p.total - p.bytes) / p.rate) : "--";
  return `${percent(p.bytes, p.total).padStart(4)} ${humanSize(p.bytes)}/${humanSize(p.total)} ${humanRate(p.rate)} ETA ${eta}`;
}

/** `45% 12/30 files 1.2 GiB/2.0 GiB 300.0 MiB/s ETA 3s` */
export function batchDetail(filesDone: number, files: number, p: ProgressLike): string {
  const eta = p.rate > 0 ? humanDuration((p.total - p.bytes) / p.rate) : "--";
  return `${percent(p.bytes, p.total).padStart(4)} ${filesDone}/${files} files ${humanSize(p.bytes)}/${humanSize(p.total)} ${humanRate(p.rate)} ETA ${eta}`;
}

/**
 * Progress bars on a terminal (cli-progress). One bar per file for single transfers; for
 * mput/mget an overall bar plus a bar for whichever file last reported progress. cli-progress
 * redraws on its own timer, so redraws stay at BARS_FPS however small the chunks are.
 */
export class Bars {
  private readonly multi: cliProgress.MultiBar;
  private overall: cliProgress.SingleBar | null = null;
  private current: cliProgress.SingleBar | null = null;
  private stopped = false;

  constructor(stream: NodeJS.WritableStream) {
    this.multi = new cliProgress.MultiBar({
      stream,
      fps: BARS_FPS,
      format: formatLine,
      barsize: 20,
      hideCursor: true,
      clearOnComplete: true,
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
      detail: batchDetail(0, files, { bytes: 0, total: bytes, rate: 0 }),
    });
  }

  updateBatch(filesDone: number, files: number, p: ProgressLike): void {
    this.overall?.update(p.total > 0 ? p.bytes : 1, { detail: batchDetail(filesDone, files, p) });
  }

  /** Shows `label` on the file bar (created on first use). */
  updateFile(label: string, p: ProgressLike): void {
    const value = p.total > 0 ? p.bytes : 1;
    const total = Math.max(p.total, 1);
    const payload = { label, detail: fileDetail(p) };
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
