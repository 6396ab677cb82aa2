import { performance } from "node:perf_hooks";
import type { TransferResult } from "./types.js";

/** What a transfer reports to `onProgress`. */
export interface Progress {
  /** Bytes of this file done, including a resumed prefix. */
  bytes: number;
  /** Size of the whole file. */
  total: number;
  /** Bytes actually moved over the wire by this call. */
  transferred: number;
  /** Bytes per second moved over the wire by this call, averaged since its data started moving. */
  rate: number;
  /**
   * "data" while bytes move; "verifying" once every byte has moved and the transfer waits for its
   * check and sync (the server's fsync and commit of a put, the local one of a get); "done" at the end.
   */
  phase: ProgressPhase;
}

export type ProgressPhase = "data" | "verifying" | "done";

export type ProgressCallback = (progress: Progress) => void;

/** Default spacing of progress reports: about ten a second, whatever the chunk size. */
export const PROGRESS_INTERVAL_MS = 100;

/**
 * Counts a transfer's bytes on every chunk (cheap) and tells the observer at most once per interval,
 * plus once at the start and once at the end, so a bar never redraws per chunk. A throwing callback
 * is ignored: drawing must not break a transfer.
 */
export class ProgressReporter {
  private bytes = 0;
  private transferred = 0;
  private started = performance.now();
  private lastReport = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly total: number,
    private readonly callback: ProgressCallback | undefined,
    private readonly intervalMs = PROGRESS_INTERVAL_MS,
  ) {}

  /** Data starts moving now; `resumedFrom` bytes were already there. Reports once. */
  begin(resumedFrom: number): void {
    this.bytes = resumedFrom;
    this.transferred = 0;
    this.started = performance.now();
    this.report(this.started);
  }

  add(n: number): void {
    this.bytes += n;
    this.transferred += n;
    if (this.callback === undefined) return;
    const now = performance.now();
    // The last byte is reported at once, whatever the interval: what follows (the check, an fsync)
    // may take a while, and a bar left at 97 % looks stuck.
    if (this.bytes >= this.total && n > 0) this.report(now, "verifying");
    else if (now - this.lastReport >= this.intervalMs) this.report(now);
  }

  /** The last report: always sent, so the observer sees the final numbers. */
  finish(): void {
    this.report(performance.now(), "done");
  }

  /** The last report, and the result of the verified transfer it followed. */
  result(
    transfer: Pick<TransferResult, "local" | "remote" | "size" | "alg" | "hash" | "resumedFrom" | "mtime">,
  ): TransferResult {
    this.finish();
    const md5 = transfer.alg === "md5" ? { md5: transfer.hash } : {};
    return { ...transfer, ...md5, transferred: this.transferred, seconds: this.seconds };
  }

  get seconds(): number {
    return (performance.now() - this.started) / 1000;
  }

  get moved(): number {
    return this.transferred;
  }

  private report(now: number, phase: ProgressPhase = this.bytes >= this.total ? "verifying" : "data"): void {
    this.lastReport = now;
    if (this.callback === undefined) return;
    const elapsed = (now - this.started) / 1000;
    const rate = elapsed > 0 ? this.transferred / elapsed : 0;
    try {
      this.callback({ bytes: this.bytes, total: this.total, transferred: this.transferred, rate, phase });
    } catch {
      // An observer's bug must not corrupt a transfer in flight; it only loses its own drawing.
    }
  }
}
