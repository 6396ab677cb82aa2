import path from "node:path";
import { printable, type TransferResult } from "../../lib/index.js";
import type { Context } from "../commands/types.js";
import { CliError, codeOf, describeError, messageOf } from "../errors.js";
import type { TransferSummary } from "../render/lines.js";
import { visible } from "../render/visible.js";
import { inWindow, transferWindow } from "./window.js";

/** One planned transfer. Paths are absolute (local) and protocol paths (remote). */
export interface Job {
  op: "put" | "get";
  local: string;
  remote: string;
  size: number;
  overwrite: boolean;
  /** put: continue after the bytes of a shorter remote file when they are this file's prefix. */
  resumeTarget?: boolean;
  /** get: false when the planner saw no NAME.part to continue, so the library need not look. */
  resume?: boolean;
  /** Decided before starting: skip this file, with the reason shown. */
  skip?: string;
  /** A reason the job cannot run (shown as its failure). */
  error?: unknown;
  /** Keep the source's mtime (-p). */
  preserve?: boolean;
}

/** How a local path is shown: relative to the local cwd when inside it. */
export function showLocal(ctx: Context, local: string): string {
  const rel = path.relative(ctx.state.localCwd, local);
  if (rel === "") return ".";
  return printable(!rel.startsWith("..") && !path.isAbsolute(rel) ? rel : local);
}

function summarize(ctx: Context, job: Job, r: TransferResult): TransferSummary {
  const local = showLocal(ctx, job.local);
  const remote = printable(job.remote);
  return {
    op: job.op,
    from: job.op === "put" ? local : remote,
    to: job.op === "put" ? remote : local,
    size: r.size,
    alg: r.alg,
    hash: r.hash,
    transferred: r.transferred,
    resumedFrom: r.resumedFrom,
    seconds: r.seconds,
  };
}

function label(ctx: Context, job: Job): string {
  return job.op === "put" ? showLocal(ctx, job.local) : printable(path.posix.basename(job.remote));
}

/** What a file's question decided: nothing (go ahead), overwrite, or skip. */
export type Decision = Partial<Pick<Job, "overwrite" | "skip" | "resumeTarget" | "resume">> | undefined;

/**
 * Turns planned files into jobs, asking `decide` about each one that has no error yet, then runs
 * them as a batch. A question that fails marks only its file; Ctrl-C (EABORTED) stops the command.
 */
export async function decideAndRun<F extends Omit<Job, "op" | "overwrite">>(
  ctx: Context,
  op: Job["op"],
  files: readonly F[],
  decide: (file: F) => Promise<Decision>,
  common: Pick<Job, "preserve"> = {},
): Promise<void> {
  const jobs = await decideJobs(op, files, decide, common);
  if (jobs.length > 0) await runJobs(ctx, jobs, true);
}

/** decideAndRun's first half: the jobs, each decided about (or marked with why it cannot run). */
export async function decideJobs<F extends Omit<Job, "op" | "overwrite">>(
  op: Job["op"],
  files: readonly F[],
  decide: (file: F) => Promise<Decision>,
  common: Pick<Job, "preserve"> = {},
): Promise<Job[]> {
  const jobs: Job[] = [];
  for (const f of files) {
    // Only the job's own fields: a planned file may carry more (its entry, its stat).
    const { local, remote, size, error } = f;
    const job: Job = { op, ...common, local, remote, size, error, overwrite: false };
    if (!f.error) {
      try {
        Object.assign(job, await decide(f));
      } catch (err) {
        if (codeOf(err) === "EABORTED") throw err;
        job.error = err;
      }
    }
    jobs.push(job);
  }
  return jobs;
}

/**
 * Runs the jobs through one session: each result becomes a line (or JSON line). A single job's
 * failure is thrown as it is; in a batch each failure is noted as it happens and the command fails
 * at the end with a count. Ctrl-C aborts everything in flight and starts nothing new.
 */
export async function runJobs(ctx: Context, jobs: Job[], batch: boolean): Promise<void> {
  throwFailures(await runBatch(ctx, jobs, batch), jobs.length, batch);
}

export interface BatchOptions {
  /**
   * Put-first: a put without overwrite that the server refuses because something is at its target
   * (EEXIST, EISDIR) is not a failure but handed back in `deferred`, to be decided about.
   */
  deferRefused?: boolean;
  /**
   * Asked about a failed job: an error that is the command's rather than the file's (its folder
   * could not be made), which then ends the command once, instead of a line per file.
   */
  commandError?: (job: Job) => Promise<unknown>;
}

export interface BatchOutcome {
  failures: { job: Job; err: unknown }[];
  deferred: Job[];
}

/** runJobs without the last word: what failed and what was deferred, for a caller with more to run. */
export async function runBatch(
  ctx: Context,
  jobs: Job[],
  batch: boolean,
  options: BatchOptions = {},
): Promise<BatchOutcome> {
  const session = await ctx.session();
  const reporter = ctx.reporter();
  if (batch) {
    reporter.startBatch(
      jobs.length,
      jobs.reduce((n, j) => n + (j.skip || j.error ? 0 : j.size), 0),
    );
  }
  const failures: { job: Job; err: unknown }[] = [];
  const deferred: Job[] = [];
  let aborted = false;
  // A session that failed at its hello (an early one: ConnectOptions.early) fails every job with
  // the same error; that is one line for the command, not one per file. So is a commandError.
  let ended: unknown = null;
  reporter.holdLines();
  const shownFrom = (job: Job) => (job.op === "put" ? showLocal(ctx, job.local) : printable(job.remote));
  const shownTo = (job: Job) => (job.op === "put" ? printable(job.remote) : showLocal(ctx, job.local));

  await inWindow(
    jobs,
    transferWindow<Job>(),
    async (job) => {
      if (job.skip) {
        reporter.skipped(job.op, shownFrom(job), shownTo(job), job.skip);
        return;
      }
      // Without bars nobody draws a file's progress: no label, callback or progress reports per file.
      const file = reporter.drawing ? reporter.file(label(ctx, job)) : undefined;
      try {
        if (job.error) throw job.error;
        const opts = {
          overwrite: job.overwrite,
          resumeTarget: job.resumeTarget,
          resume: job.resume,
          preserve: job.preserve === true,
          signal: ctx.signal,
          onProgress: file?.onProgress,
        };
        const result =
          job.op === "put"
            ? await session.put(job.local, job.remote, opts)
            : await session.get(job.remote, job.local, opts);
        reporter.done(summarize(ctx, job, result), file?.id);
      } catch (err) {
        reporter.failed(file?.id, 0);
        if (codeOf(err) === "EABORTED" || ctx.signal.aborted) {
          aborted = true;
          return;
        }
        const atHello = await session.ready.then(
          () => null,
          (e: unknown) => e,
        );
        const commandError = atHello ?? (await options.commandError?.(job)) ?? null;
        if (commandError !== null) {
          ended ??= commandError;
          return;
        }
        if (options.deferRefused && !job.overwrite && job.error === undefined && targetRefusal(err)) {
          deferred.push(job);
          return;
        }
        failures.push({ job, err: resumable(err) });
        if (batch)
          reporter.note(`${job.op} ${shownFrom(job)} → ${shownTo(job)}: ${visible(describeError(err))}`);
      }
    },
    ctx.signal,
  );
  reporter.close();
  ctx.state.forgetListings();

  if (aborted || ctx.signal.aborted) {
    throw new CliError("EABORTED", `interrupted; ${AGAIN_TO_RESUME}`);
  }
  if (ended !== null) throw ended;
  return { failures, deferred };
}

/** The server refused a put because of what is at its target, before taking anything under the name. */
function targetRefusal(err: unknown): boolean {
  const code = codeOf(err);
  const local = (err as { details?: { local?: boolean } }).details?.local === true;
  return (code === "EEXIST" || code === "EISDIR") && !local;
}

/** The command's last word on its failures: a single job's own error, or a count for a batch. */
export function throwFailures(outcome: BatchOutcome, total: number, batch: boolean): void {
  const { failures } = outcome;
  if (failures.length === 0) return;
  const first = failures[0] as { job: Job; err: unknown };
  if (!batch) throw first.err;
  const lost = failures.some((f) => lostConnection(f.err));
  throw new CliError(
    codeOf(first.err),
    `${failures.length} of ${total} transfers failed${lost ? `; ${AGAIN_TO_RESUME}` : ""}`,
    { cause: first.err },
  );
}

const AGAIN_TO_RESUME = "run the same command again to resume";

function lostConnection(err: unknown): boolean {
  const code = codeOf(err);
  return code === "ECONNLOST" || code === "ETIMEDOUT";
}

/** A transfer cut off by a lost connection is resumed by running it again; its error says so. */
function resumable(err: unknown): unknown {
  if (!lostConnection(err)) return err;
  return new CliError(codeOf(err), `${messageOf(err)}; ${AGAIN_TO_RESUME}`, { cause: err });
}
