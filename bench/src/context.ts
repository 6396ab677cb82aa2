import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchOptions } from "./options.js";
import { PROFILES_DIR } from "./paths.js";
import type { PeerFigure } from "./peers/table.js";
import type { Row } from "./report.js";

/** What the sections share: options, the test file, baselines for ratios, and the rows so far. */
export interface BenchContext {
  opts: BenchOptions;
  bigFile: string;
  bigMd5: string;
  rows: Row[];
  /** Raw per-run figures, kept in latest.json next to the table's medians. */
  raw: Record<string, unknown>;
  baseline: {
    md5sumMbps: number | null;
    nodeMd5Mbps: number | null;
    verifiedCopyMbps: number | null;
    /** CPU seconds per GiB of Node's md5: the floor for each side of a verified transfer. */
    md5CpuPerGiB: number | null;
  };
  /** `--peers`: each tool's figure per row, kept in latest.json as `peers`. */
  peers: PeerFigure[];
  /** `--peers`: the table in the shape, printed after the main one. */
  peersTable: string | null;
  /** Peak RSS (MB) of the big-file put, for the memory-scaling ratio. */
  bigPutPeak: { server: number | null; client: number | null };
  /** Node flags for child processes (server and client), e.g. --cpu-prof. */
  nodeArgs(role: string): string[];
  log(message: string): void;
}

export function nodeArgsFor(cpuProf: boolean, role: string): string[] {
  // One folder per process: worker threads write their own profiles beside the main thread's.
  return cpuProf ? ["--cpu-prof", `--cpu-prof-dir=${PROFILES_DIR}${role}-${Date.now()}`] : [];
}

/** A fresh temporary folder, removed after `fn` whatever happens. */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), `ferry-bench-${prefix}-`));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
