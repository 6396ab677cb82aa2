import path from "node:path";
import { printable } from "../../lib/index.js";
import type { Token } from "../args.js";
import { shortFlags, takeOptions } from "../command-options.js";
import { CliError, codeOf, usage } from "../errors.js";
import { remoteBasename, resolveLocal, resolveRemote } from "../paths.js";
import { decideGet, type TargetMode } from "../transfer/decide.js";
import { runJobs, showLocal } from "../transfer/jobs.js";
import { localStatOrNull } from "../transfer/local.js";
import { askHash } from "../transfer/remote.js";
import { downloadMany, remoteSources } from "./mget.js";
import type { CommandSpec, Context } from "./types.js";

function isDirectory(remote: string, cause?: unknown): CliError {
  return new CliError("EISDIR", `${printable(remote)} is a directory; use get -r`, { cause });
}

/** An error about a local path (the library marks those), not the server's. */
function isLocal(err: unknown): boolean {
  return (err as { details?: { local?: boolean } }).details?.local === true;
}

/** `get REMOTE [LOCAL]`: one file, to LOCAL, or into it when it is a directory or ends with `/`. */
async function getOne(
  ctx: Context,
  src: Token,
  dst: Token | undefined,
  { mode, preserve }: { mode: TargetMode; preserve: boolean },
): Promise<void> {
  const session = await ctx.session();
  const remote = resolveRemote(ctx.state.remoteCwd, src.text);
  const name = remoteBasename(remote);
  let local = dst ? resolveLocal(ctx.state.localCwd, dst.text) : path.join(ctx.state.localCwd, name);
  const st = localStatOrNull(local);
  if (st?.isDirectory() || (dst?.text.endsWith("/") && !st)) local = path.join(local, name);
  if (localStatOrNull(local) === null) {
    // Nothing there to decide about: the get goes out at once instead of a stat's round trip first
    // (its reply carries the size and md5). A directory is refused by the server as the stat told.
    const job = { op: "get", local, remote, size: 0, overwrite: false, preserve } as const;
    try {
      await runJobs(ctx, [job], false);
    } catch (err) {
      if (codeOf(err) === "EISDIR" && !isLocal(err)) throw isDirectory(remote, err);
      throw err;
    }
    return;
  }
  const entry = await session.stat(remote);
  if (entry.type === "dir") throw isDirectory(remote);
  const decision = await decideGet(
    ctx.conflicts(),
    mode,
    session.server.hash,
    local,
    entry,
    showLocal(ctx, local),
    ctx.signal,
    askHash(session, remote),
  );
  const job = {
    op: "get",
    local,
    remote,
    size: entry.size,
    overwrite: false,
    preserve,
    ...decision,
  } as const;
  await runJobs(ctx, [job], false);
}

/**
 * get and reget, read as put is (see runPut): one or two plain words are `REMOTE [LOCAL]`; several
 * or globs go into the last word when it is a local directory or ends with `/`, else into the local
 * directory; `get -r DIR NEW` makes NEW a copy of DIR. `-p` keeps the server's mtimes.
 */
async function runGet(ctx: Context, args: Token[], mode: TargetMode, usageText: string): Promise<void> {
  const { flags, positionals: rest } = takeOptions(args, shortFlags("rp"));
  if (rest.length === 0) throw usage(usageText);
  const recursive = flags.has("r");
  const preserve = flags.has("p");
  const plain = !rest.some((t) => t.glob);
  if (!recursive && plain && rest.length <= 2)
    return getOne(ctx, rest[0] as Token, rest[1], { mode, preserve });

  const session = await ctx.session();
  const last = rest[rest.length - 1] as Token;
  let dest = path.resolve(ctx.state.localCwd);
  let words = rest;
  if (rest.length >= 2 && !last.glob) {
    const resolved = resolveLocal(ctx.state.localCwd, last.text);
    const there = localStatOrNull(resolved);
    if (last.text.endsWith("/") || there?.isDirectory()) {
      dest = resolved;
      words = rest.slice(0, -1);
    } else if (recursive && plain && rest.length === 2 && there === null) {
      const remote = resolveRemote(ctx.state.remoteCwd, (rest[0] as Token).text);
      return downloadMany(ctx, [{ path: remote, local: resolved }], resolved, { recursive, mode, preserve });
    }
  }
  const sources = await remoteSources(ctx, session, words);
  await downloadMany(ctx, sources, dest, { recursive, mode, preserve });
}

export const get: CommandSpec = {
  name: "get",
  usage: "get [-r] [-p] REMOTE... [LOCAL]",
  summary: "download files or globs (into LOCAL if it is a directory; -r: whole trees)",
  details:
    "Writes NAME.part and renames it only after the md5 matched; an interrupted download resumes from the .part file. A local file identical to the remote one is skipped as up to date. -p keeps the server's mtime.",
  args: ["remote", "local"],
  async run(ctx, args) {
    await runGet(ctx, args, "ask", this.usage);
    return undefined;
  },
};

export const reget: CommandSpec = {
  name: "reget",
  usage: "reget [-r] [-p] REMOTE... [LOCAL]",
  summary: "download, continuing a shorter local file without asking (its bytes are checked by md5)",
  details: "A local file that is not shorter than the remote one is an error.",
  args: ["remote", "local"],
  async run(ctx, args) {
    await runGet(ctx, args, "resume", this.usage);
    return undefined;
  },
};
