import fs from "node:fs/promises";
import path from "node:path";
import { printable } from "../../lib/index.js";
import type { Token } from "../args.js";
import { shortFlags, takeOptions } from "../command-options.js";
import { CliError, codeOf, localFileError, usage } from "../errors.js";
import { joinRemote, resolveLocal, resolveRemote } from "../paths.js";
import { decidePut, type TargetMode } from "../transfer/decide.js";
import { runJobs } from "../transfer/jobs.js";
import { askHash, statOrNull } from "../transfer/remote.js";
import { localSources, uploadMany } from "./mput.js";
import type { CommandSpec, Context } from "./types.js";

/** `put LOCAL [REMOTE]`: one file, to REMOTE, or into it when it is a directory or ends with `/`. */
async function putOne(
  ctx: Context,
  src: Token,
  dst: Token | undefined,
  { mode, preserve }: { mode: TargetMode; preserve: boolean },
): Promise<void> {
  const local = resolveLocal(ctx.state.localCwd, src.text);
  const st = await fs.stat(local).catch((err: NodeJS.ErrnoException) => {
    throw localFileError(err, printable(local));
  });
  if (st.isDirectory()) throw new CliError("EISDIR", `${printable(src.text)} is a directory; use put -r`);
  const session = await ctx.session();
  const name = path.basename(local);
  let remote = dst ? resolveRemote(ctx.state.remoteCwd, dst.text) : joinRemote(ctx.state.remoteCwd, name);
  if (mode === "ask" && !dst?.text.endsWith("/")) {
    // Most puts meet no file there: the put goes out at once, without a stat's round trip first.
    // The server refuses it (EEXIST, or EISDIR for a directory) before it takes anything under the
    // name; only then is the target looked at and decided about, as below.
    const job = { op: "put", local, remote, size: st.size, overwrite: false, preserve } as const;
    try {
      await runJobs(ctx, [job], false);
      return;
    } catch (err) {
      const code = codeOf(err);
      const local = (err as { details?: { local?: boolean } }).details?.local === true;
      if ((code !== "EEXIST" && code !== "EISDIR") || local) throw err;
    }
  }
  let existing = await statOrNull(session, remote);
  if (existing?.type === "dir" || (dst?.text.endsWith("/") && existing === null)) {
    remote = joinRemote(remote, name);
    existing = await statOrNull(session, remote);
  }
  const decision = await decidePut(
    ctx.conflicts(),
    mode,
    session.server.hash,
    { path: local, size: st.size },
    existing,
    printable(remote),
    ctx.signal,
    askHash(session, remote),
  );
  const job = { op: "put", local, remote, size: st.size, overwrite: false, preserve, ...decision } as const;
  await runJobs(ctx, [job], false);
}

/**
 * put and reput. One or two plain words are `LOCAL [REMOTE]` (sftp); several words or globs are
 * several files (lftp, mput), into the last word when it is a remote directory or ends with `/`,
 * else into the remote directory. `-r` sends trees; `put -r DIR NEW` makes NEW a copy of DIR.
 * `-p` keeps the local files' mtimes.
 */
async function runPut(ctx: Context, args: Token[], mode: TargetMode, usageText: string): Promise<void> {
  const { flags, positionals: rest } = takeOptions(args, shortFlags("rp"));
  if (rest.length === 0) throw usage(usageText);
  const recursive = flags.has("r");
  const preserve = flags.has("p");
  const plain = !rest.some((t) => t.glob);
  if (!recursive && plain && rest.length <= 2)
    return putOne(ctx, rest[0] as Token, rest[1], { mode, preserve });

  const session = await ctx.session();
  const last = rest[rest.length - 1] as Token;
  let targetDir = ctx.state.remoteCwd;
  let words = rest;
  if (rest.length >= 2 && !last.glob) {
    const resolved = resolveRemote(ctx.state.remoteCwd, last.text);
    const there = await statOrNull(session, resolved);
    if (last.text.endsWith("/") || there?.type === "dir") {
      targetDir = resolved;
      words = rest.slice(0, -1);
    } else if (recursive && plain && rest.length === 2 && there === null) {
      // cp -r and sftp: a new name for the tree itself.
      const local = resolveLocal(ctx.state.localCwd, (rest[0] as Token).text);
      return uploadMany(ctx, [{ local, remote: resolved }], { recursive, mode, preserve });
    }
  }
  const locals = await localSources(ctx, words);
  await uploadMany(
    ctx,
    locals.map((local) => ({ local, remote: joinRemote(targetDir, path.basename(local)) })),
    { recursive, mode, preserve },
  );
}

export const put: CommandSpec = {
  name: "put",
  usage: "put [-r] [-p] LOCAL... [REMOTE]",
  summary: "upload files or globs (into REMOTE if it is a directory; -r: whole trees)",
  details:
    "Resumes an interrupted upload of the same file. A remote file identical to the local one (same size and md5) is skipped as up to date; any other existing one is asked about (--yes: replace). -p keeps the file's mtime.",
  args: ["local", "remote"],
  async run(ctx, args) {
    await runPut(ctx, args, "ask", this.usage);
    return undefined;
  },
};

export const reput: CommandSpec = {
  name: "reput",
  usage: "reput [-r] [-p] LOCAL... [REMOTE]",
  summary: "upload, continuing a shorter remote file without asking (its bytes are checked by md5)",
  details:
    "For a remote file left short by another tool; an upload ferry itself was interrupted in resumes with plain put. A remote file that is not shorter is an error.",
  args: ["local", "remote"],
  async run(ctx, args) {
    await runPut(ctx, args, "resume", this.usage);
    return undefined;
  },
};
