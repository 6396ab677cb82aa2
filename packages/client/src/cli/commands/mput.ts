import fs from "node:fs/promises";
import path from "node:path";
import { printable } from "../../lib/index.js";
import { takeFlags } from "../args.js";
import { CliError, localFileError, usage } from "../errors.js";
import { expandGlob } from "../glob.js";
import { joinRemote, remoteDirname, resolveLocal } from "../paths.js";
import { decideAndRun } from "../transfer/jobs.js";
import { localList } from "../transfer/local.js";
import { listOrEmpty } from "../transfer/remote.js";
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
      const st = await fs.stat(local).catch(() => null);
      // Links to directories are not followed: a link back up the tree would never end.
      if (st?.isFile()) files.push({ local, remote, size: st.size });
      else ctx.io.err(`skipping ${printable(local)}: not a regular file`);
    } else {
      ctx.io.err(`skipping ${printable(local)}: not a regular file`);
    }
  }
}

export const mput: CommandSpec = {
  name: "mput",
  usage: "mput [-r] [-p] PATTERN...",
  summary: "upload files matching local globs into the remote directory (-r: whole trees)",
  details:
    "Transfers are pipelined on the one connection. Asks once per existing remote file: overwrite, skip, overwrite all, skip all (--yes: overwrite all).",
  args: ["local"],
  async run(ctx, args) {
    const { flags, rest } = takeFlags(args, "rp");
    if (rest.length === 0) throw usage(this.usage);
    const recursive = flags.has("r");
    const session = await ctx.session();
    const cwd = ctx.state.remoteCwd;
    const dirs: string[] = [];
    const files: Planned[] = [];

    for (const token of rest) {
      const matches = token.glob
        ? await expandGlob(token.pattern, ctx.state.localCwd, localList, path.join)
        : [{ path: resolveLocal(ctx.state.localCwd, token.text) }];
      if (matches.length === 0) throw new CliError("ENOENT", `no local match for ${printable(token.text)}`);
      for (const m of matches) {
        const st = await fs.stat(m.path).catch((err: NodeJS.ErrnoException) => {
          throw localFileError(err, printable(m.path));
        });
        const remote = joinRemote(cwd, path.basename(m.path));
        if (st.isFile()) files.push({ local: m.path, remote, size: st.size });
        else if (st.isDirectory() && recursive) await walkLocal(ctx, m.path, remote, dirs, files);
        else
          ctx.io.err(
            `skipping ${printable(m.path)}: ${st.isDirectory() ? "a directory (use -r)" : "not a file"}`,
          );
      }
    }

    // mkdir -p is idempotent and the library pipelines it; parents come before children in `dirs`.
    await inWindow(dirs, TRANSFER_WINDOW, (d) => session.mkdir(d, { parents: true }), ctx.signal);

    const existing = new Map<string, Set<string>>();
    const targetDirs = [...new Set(files.map((f) => remoteDirname(f.remote)))];
    await inWindow(targetDirs, TRANSFER_WINDOW, async (d) => {
      const entries = await listOrEmpty(session, d);
      existing.set(d, new Set(entries.map((e) => e.name)));
    });

    const conflicts = ctx.conflicts();
    await decideAndRun(
      ctx,
      "put",
      files,
      async (f) => {
        if (!existing.get(remoteDirname(f.remote))?.has(path.posix.basename(f.remote))) return undefined;
        const choice = await conflicts.decide(printable(f.remote), false, "use --yes or rm it first");
        return choice === "skip" ? { skip: "exists" } : { overwrite: true };
      },
      { preserve: flags.has("p") },
    );
    return undefined;
  },
};
