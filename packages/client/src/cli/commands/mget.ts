import fs from "node:fs/promises";
import path from "node:path";
import type { Entry } from "@ferry/protocol";
import { isSafeRemoteName, printable } from "../../lib/index.js";
import { takeFlags } from "../args.js";
import { CliError, usage } from "../errors.js";
import { expandGlob } from "../glob.js";
import { isInside, joinRemote, remoteBasename, resolveRemote } from "../paths.js";
import { decideAndRun, showLocal } from "../transfer/jobs.js";
import { remoteLister } from "../transfer/remote.js";
import { inWindow, TRANSFER_WINDOW } from "../transfer/window.js";
import { decideLocal } from "./get.js";
import type { CommandSpec, Context } from "./types.js";

interface Planned {
  remote: string;
  local: string;
  size: number;
  error?: unknown;
}

function unsafe(remote: string): CliError {
  return new CliError("EBADPATH", `unsafe name from the server: ${printable(remote)}; nothing written`);
}

/**
 * The local path for a remote name under `dir`, or an error: names the server sends are never
 * trusted (no `/`, `..`, control characters; CVE-2019-6111), and the result must stay in `dest`.
 */
function localTarget(dest: string, dir: string, name: string): string | null {
  if (!isSafeRemoteName(name)) return null;
  const target = path.join(dir, name);
  return isInside(dest, target) && target !== path.resolve(dest) ? target : null;
}

/** Walks a remote tree level by level, listing each level's directories in one pipelined window. */
async function walkRemote(
  ctx: Context,
  root: { remote: string; local: string },
  dest: string,
  localDirs: string[],
  files: Planned[],
): Promise<void> {
  const session = await ctx.session();
  let level = [root];
  while (level.length > 0 && !ctx.signal.aborted) {
    const next: typeof level = [];
    localDirs.push(...level.map((d) => d.local));
    await inWindow(level, TRANSFER_WINDOW, async (d) => {
      const entries: Entry[] = await session.list(d.remote);
      for (const e of entries) {
        const remote = joinRemote(d.remote, e.name);
        const local = localTarget(dest, d.local, e.name);
        if (local === null) {
          files.push({ remote, local: dest, size: 0, error: unsafe(remote) });
        } else if (e.type === "dir") {
          next.push({ remote, local });
        } else if (e.type === "file" || e.type === "symlink") {
          files.push({ remote, local, size: e.size });
        } else {
          ctx.io.err(`skipping ${printable(remote)}: not a regular file`);
        }
      }
    });
    level = next;
  }
}

export const mget: CommandSpec = {
  name: "mget",
  usage: "mget [-r] [-p] PATTERN...",
  summary: "download remote files matching globs into the local directory (-r: whole trees)",
  details:
    "Every name from the server is checked before anything is written; targets always stay inside the local directory.",
  args: ["remote"],
  async run(ctx, args) {
    const { flags, rest } = takeFlags(args, "rp");
    if (rest.length === 0) throw usage(this.usage);
    const recursive = flags.has("r");
    const session = await ctx.session();
    const dest = path.resolve(ctx.state.localCwd);
    const localDirs: string[] = [];
    const files: Planned[] = [];

    for (const token of rest) {
      const matches = token.glob
        ? await expandGlob(token.pattern, ctx.state.remoteCwd, remoteLister(session), joinRemote)
        : [{ path: resolveRemote(ctx.state.remoteCwd, token.text) }];
      if (matches.length === 0) throw new CliError("ENOENT", `no remote match for ${printable(token.text)}`);
      for (const m of matches) {
        // remoteLister hands back the session's own Entry objects.
        const { type, size } = (m.entry as Entry | undefined) ?? (await session.stat(m.path));
        const local = localTarget(dest, dest, remoteBasename(m.path));
        if (local === null) {
          files.push({ remote: m.path, local: dest, size: 0, error: unsafe(m.path) });
        } else if (type === "file" || type === "symlink") {
          files.push({ remote: m.path, local, size });
        } else if (type === "dir" && recursive) {
          await walkRemote(ctx, { remote: m.path, local }, dest, localDirs, files);
        } else {
          ctx.io.err(
            `skipping ${printable(m.path)}: ${type === "dir" ? "a directory (use -r)" : "not a file"}`,
          );
        }
      }
    }
    if (ctx.signal.aborted) throw new CliError("EABORTED", "interrupted");

    for (const d of localDirs) await fs.mkdir(d, { recursive: true });

    const conflicts = ctx.conflicts();
    await decideAndRun(
      ctx,
      "get",
      files,
      (f) => decideLocal(conflicts, f.local, f.size, showLocal(ctx, f.local)),
      { preserve: flags.has("p") },
    );
    return undefined;
  },
};
