import type { Stats } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import type { Entry } from "../../lib/index.js";
import { printable } from "../../lib/index.js";
import type { Token } from "../args.js";
import { shortFlags, takeOptions } from "../command-options.js";
import { CliError, localFileError, usage } from "../errors.js";
import { expandGlob } from "../glob.js";
import { joinRemote, remoteDirname, resolveLocal } from "../paths.js";
import { decidePut, knownHash, type TargetMode } from "../transfer/decide.js";
import { decideAndRun, decideJobs, type Job, runBatch, throwFailures } from "../transfer/jobs.js";
import { localList, localStatOrNull } from "../transfer/local.js";
import { askHashesAhead, listOrEmpty } from "../transfer/remote.js";
import { inWindow, TRANSFER_WINDOW } from "../transfer/window.js";
import type { CommandSpec, Context } from "./types.js";

interface Planned {
  local: string;
  remote: string;
  size: number;
}

/** Walks a local tree: remote directories to create (parents first) and files to send. */
async function walkLocal(ctx: Context, dir: string, remoteDir: string, dirs: string[], files: Planned[]) {
  dirs.push(remoteDir);
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const local = path.join(dir, entry.name);
    const remote = joinRemote(remoteDir, entry.name);
    if (entry.isDirectory()) {
      await walkLocal(ctx, local, remote, dirs, files);
    } else if (entry.isFile() || entry.isSymbolicLink()) {
      let st: Stats | null = null;
      try {
        st = localStatOrNull(local);
      } catch {}
      // Links to directories are not followed: a link back up the tree would never end.
      if (st?.isFile()) files.push({ local, remote, size: st.size });
      else ctx.io.err(`skipping ${printable(local)}: not a regular file`);
    } else {
      ctx.io.err(`skipping ${printable(local)}: not a regular file`);
    }
  }
}

/** Local paths for words: globs expanded (no match is ENOENT), plain words resolved. */
export async function localSources(ctx: Context, tokens: readonly Token[]): Promise<string[]> {
  const out: string[] = [];
  for (const token of tokens) {
    const matches = token.glob
      ? await expandGlob(token.pattern, ctx.state.localCwd, localList, path.join)
      : [{ path: resolveLocal(ctx.state.localCwd, token.text) }];
    if (matches.length === 0) throw new CliError("ENOENT", `no local match for ${printable(token.text)}`);
    out.push(...matches.map((m) => m.path));
  }
  return out;
}

/**
 * Uploads each local path to its remote path: files as they are, directories as whole trees when
 * `recursive` (else skipped with a note). Remote directories are made first; then every file whose
 * target exists is decided (identical: "up to date"; else asked, per `mode`) and the rest go
 * pipelined; `preserve` sends each file's mtime (-p).
 */
export async function uploadMany(
  ctx: Context,
  sources: readonly { local: string; remote: string }[],
  {
    recursive,
    mode = "ask",
    preserve = false,
  }: { recursive: boolean; mode?: TargetMode; preserve?: boolean },
): Promise<void> {
  const session = await ctx.session();
  const dirs: string[] = [];
  const files: Planned[] = [];
  for (const src of sources) {
    const st = await fs.stat(src.local).catch((err: NodeJS.ErrnoException) => {
      throw localFileError(err, printable(src.local));
    });
    if (st.isFile()) files.push({ local: src.local, remote: src.remote, size: st.size });
    else if (st.isDirectory() && recursive) await walkLocal(ctx, src.local, src.remote, dirs, files);
    else
      ctx.io.err(
        `skipping ${printable(src.local)}: ${st.isDirectory() ? "a directory (use -r)" : "not a file"}`,
      );
  }

  // mkdir -p is idempotent and the library pipelines it; parents come before children in `dirs`.
  // The listings go out beside them: a folder that was there lists the same either way, and one
  // being made holds nothing yet (ENOENT or empty).
  const existing = new Map<string, Map<string, Entry>>();
  const targetDirs = [...new Set(files.map((f) => remoteDirname(f.remote)))];
  const made = inWindow(dirs, TRANSFER_WINDOW, (d) => session.mkdir(d, { parents: true }), ctx.signal);
  const listed = inWindow(targetDirs, TRANSFER_WINDOW, async (d) => {
    const entries = await listOrEmpty(session, d);
    existing.set(d, new Map(entries.map((e) => [e.name, e])));
  });
  const conflicts = ctx.conflicts();
  const alg = session.server.hash;
  const targetOf = (f: { remote: string }) =>
    existing.get(remoteDirname(f.remote))?.get(path.posix.basename(f.remote));
  // Once the listings are in: the sums of targets that may be identical go out together.
  const deciding = (planned: readonly { remote: string; size: number }[]) => {
    const likely = planned.filter((f) => {
      const there = targetOf(f);
      return there?.type === "file" && there.size === f.size && knownHash(there, alg) === undefined;
    });
    const ask = askHashesAhead(
      session,
      likely.map((f) => f.remote),
    );
    return (f: Planned) =>
      decidePut(
        conflicts,
        mode,
        alg,
        { path: f.local, size: f.size },
        targetOf(f),
        printable(f.remote),
        ctx.signal,
        ask(f.remote),
      );
  };
  // Put-first when every folder's mkdir and listing is on the wire before the first put (within
  // one window, so in wire order): the puts go out at once without overwrite, so nothing is
  // replaced unasked, and no round trip comes before the first byte. Most targets do not exist; a
  // put refused because one does (EEXIST, EISDIR) is decided afterwards with its folder's listing,
  // answered before the refusal was. A file already there is sent for nothing (at most 1 MiB: a
  // bigger put is refused at its handshake, before its data).
  const putFirst = mode === "ask" && dirs.length <= TRANSFER_WINDOW && targetDirs.length <= TRANSFER_WINDOW;
  if (!putFirst) {
    await Promise.all([made, listed]);
    await decideAndRun(ctx, "put", files, deciding(files), { preserve });
    return;
  }
  const madeOrWhy = made.then(
    () => null,
    (err: unknown) => err,
  );
  listed.catch(() => {});
  const jobs = files.map((f): Job => ({ op: "put", ...f, overwrite: false, preserve }));
  const first = await runBatch(ctx, jobs, true, {
    deferRefused: true,
    // A folder that could not be made fails each of its files alike: that is one error, not many.
    commandError: () => madeOrWhy,
  });
  const why = await madeOrWhy;
  if (why !== null) throw why;
  await listed;
  const second =
    first.deferred.length === 0
      ? { failures: [], deferred: [] }
      : await runBatch(
          ctx,
          await decideJobs("put", first.deferred, deciding(first.deferred), { preserve }),
          true,
        );
  throwFailures({ failures: [...first.failures, ...second.failures], deferred: [] }, jobs.length, true);
}

export const mput: CommandSpec = {
  name: "mput",
  usage: "mput [-r] [-p] PATTERN...",
  summary: "upload files matching local globs into the remote directory (-r: whole trees)",
  details:
    "Transfers are pipelined on the one connection. A remote file identical to the local one (same size and md5) is skipped as up to date; for any other existing one it asks: overwrite, resume (a shorter one), skip, overwrite all, skip all (--yes: overwrite all).",
  args: ["local"],
  async run(ctx, args) {
    const { flags, positionals: rest } = takeOptions(args, shortFlags("rp"));
    if (rest.length === 0) throw usage(this.usage);
    const cwd = ctx.state.remoteCwd;
    const locals = await localSources(ctx, rest);
    await uploadMany(
      ctx,
      locals.map((local) => ({ local, remote: joinRemote(cwd, path.basename(local)) })),
      { recursive: flags.has("r"), preserve: flags.has("p") },
    );
    return undefined;
  },
};
