import type { Io } from "../io.js";
import { Bars, type ProgressLike } from "./bars.js";
import { skipLine, type TransferSummary, transferJson, transferLine } from "./lines.js";

/** Result lines held for one write, at most (the rest go in the next write). */
export const HELD_LINES_MAX = 256;
/** How long a held result line may wait for others to share its write: too short for a person to see. */
export const HELD_LINES_MS = 50;

export interface ReporterOptions {
  /** Draw bars (a terminal, no --no-progress, no --json). */
  bars: boolean;
  json: boolean;
}

/**
 * Everything a transfer command shows: live progress (bars on a terminal, nothing otherwise) and
 * one result line per file (plain text, or a JSON line with --json). Notes go above the bars.
 */
export class Reporter {
  private bars: Bars | null = null;
  private batch: { files: number; bytes: number; filesDone: number; started: number } | null = null;
  private readonly inFlight = new Map<number, number>();
  private bytesDone = 0;
  private nextId = 0;
  /** Result lines waiting for one write to stdout (see holdLines); null: each line is written at once. */
  private held: string[] | null = null;
  private flushTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly io: Io,
    private readonly options: ReporterOptions,
  ) {}

  private draw(): Bars | null {
    if (!this.options.bars) return null;
    this.bars ??= new Bars(this.io.stdout);
    return this.bars;
  }

  /** Whether progress is drawn: without bars, `file` has nothing to report to and need not be called. */
  get drawing(): boolean {
    return this.options.bars;
  }

  /**
   * Result lines (text or JSON) go to stdout together, at most HELD_LINES_MS after the first of them,
   * rather than one write per file: a write to a pipe wakes its reader, and cost the CLI 0.4 ms per
   * file of `mget -r` (a timer per write, not a setImmediate per line: files finish one per turn). Only for a command that writes nothing to stdout but through this reporter until
   * `close`; notes (stderr) and bars flush first, so the order a person sees is kept.
   */
  holdLines(): void {
    if (!this.options.bars) this.held ??= [];
  }

  /** For mput/mget: an overall bar over `files` files and `bytes` bytes. */
  startBatch(files: number, bytes: number): void {
    this.batch = { files, bytes, filesDone: 0, started: Date.now() };
    this.draw()?.startBatch(files, bytes);
  }

  /** Registers one file; the returned callback takes the library's progress reports. */
  file(label: string): { id: number; onProgress: (p: ProgressLike) => void } {
    const id = this.nextId++;
    return {
      id,
      onProgress: (p) => {
        const bars = this.draw();
        if (!bars) return;
        bars.updateFile(label, p);
        if (this.batch) {
          this.inFlight.set(id, p.bytes);
          this.redrawBatch(bars);
        }
      },
    };
  }

  private redrawBatch(bars: Bars): void {
    if (!this.batch) return;
    let bytes = this.bytesDone;
    for (const b of this.inFlight.values()) bytes += b;
    const seconds = (Date.now() - this.batch.started) / 1000;
    bars.updateBatch(this.batch.filesDone, this.batch.files, {
      bytes,
      total: this.batch.bytes,
      rate: seconds > 0 ? bytes / seconds : 0,
    });
  }

  private settle(id: number | undefined, size: number): void {
    if (id !== undefined) this.inFlight.delete(id);
    this.bytesDone += size;
    if (this.batch) {
      this.batch.filesDone++;
      if (this.bars) this.redrawBatch(this.bars);
    }
  }

  done(summary: TransferSummary, id?: number): void {
    this.settle(id, summary.size);
    if (this.options.json) this.json(transferJson(summary));
    else this.line(transferLine(summary));
  }

  skipped(op: "put" | "get", from: string, to: string, reason: string, size = 0, id?: number): void {
    this.settle(id, size);
    if (this.options.json) this.json({ kind: "transfer", op, from, to, skipped: true, reason });
    else this.line(skipLine(op, from, to, reason));
  }

  failed(id: number | undefined, size: number): void {
    this.settle(id, size);
  }

  /** A line for people, above the bars when they are drawn. */
  line(text: string): void {
    if (this.bars) this.bars.log(text);
    else if (this.held) this.hold(text);
    else this.io.out(text);
  }

  /** A warning, above the bars when they are drawn, else on stderr. */
  note(text: string): void {
    if (this.bars) this.bars.log(text);
    else {
      this.flush();
      this.io.err(text);
    }
  }

  close(): void {
    this.flush();
    this.held = null;
    this.bars?.stop();
    this.bars = null;
  }

  private json(value: unknown): void {
    if (this.held) this.hold(JSON.stringify(value));
    else this.io.json(value);
  }

  private hold(text: string): void {
    const held = this.held as string[];
    held.push(text);
    if (held.length >= HELD_LINES_MAX) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), HELD_LINES_MS);
  }

  /** Writes the held lines, in one write (io.out adds the last newline). */
  private flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (!this.held || this.held.length === 0) return;
    const text = this.held.join("\n");
    this.held.length = 0;
    this.io.out(text);
  }
}
