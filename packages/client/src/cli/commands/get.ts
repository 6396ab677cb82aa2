import fs from "node:fs/promises";
import path from "node:path";
import { printable } from "../../lib/index.js";
import { takeFlags } from "../args.js";
import { CliError, usage } from "../errors.js";
import { remoteBasename, resolveLocal, resolveRemote } from "../paths.js";
import type { ConflictPolicy } from "../prompts.js";
import { runJobs, showLocal } from "../transfer/jobs.js";
import { statOrNull } from "../transfer/local.js";
import type { CommandSpec } from "./types.js";

/**
 * Decides what to do with an existing local target. "resume" treats the existing file as the
 * partial download: it becomes NAME.part, which the library continues after checking its md5.
 */
export async function decideLocal(
  conflicts: ConflictPolicy,
  local: string,
  remoteSize: number,
  shown: string,
): Promise<{ overwrite: boolean; skip?: string }> {
  const st = await statOrNull(local);
  if (!st) return { overwrite: false };
  if (st.isDirectory()) throw new CliError("EISDIR", `${shown} is a directory`);
  const canResume = st.size < remoteSize;
  const choice = await conflicts.decide(shown, canResume, "use --yes to overwrite");
  if (choice === "skip") return { overwrite: false, skip: "exists" };
  if (choice === "resume") {
    await fs.rename(local, `${local}.part`);
    return { overwrite: false };
  }
  return { overwrite: true };
}

export const get: CommandSpec = {
  name: "get",
  usage: "get [-p] REMOTE [LOCAL]",
  summary: "download one file (into LOCAL if it is a directory)",
  details:
    "Writes NAME.part and renames it only after the md5 matched; an interrupted download resumes from the .part file. -p keeps the server's mtime.",
  args: ["remote", "local"],
  async run(ctx, args) {
    const { flags, rest } = takeFlags(args, "p");
    const [src, dst] = rest;
    if (!src || rest.length > 2) throw usage(this.usage);
    const session = await ctx.session();
    const remote = resolveRemote(ctx.state.remoteCwd, src.text);
    const entry = await session.stat(remote);
    if (entry.type === "dir")
      throw new CliError("EISDIR", `${printable(remote)} is a directory; use mget -r`);
    const name = remoteBasename(remote);
    let local = dst ? resolveLocal(ctx.state.localCwd, dst.text) : path.join(ctx.state.localCwd, name);
    const st = await statOrNull(local);
    if (st?.isDirectory() || (dst?.text.endsWith("/") && !st)) local = path.join(local, name);
    const decision = await decideLocal(ctx.conflicts(), local, entry.size, showLocal(ctx, local));
    const preserve = flags.has("p");
    await runJobs(ctx, [{ op: "get", local, remote, size: entry.size, ...decision, preserve }], false);
    return undefined;
  },
};
