import fs from "node:fs/promises";
import path from "node:path";
import { printable } from "../../lib/index.js";
import { takeFlags } from "../args.js";
import { CliError, localFileError, usage } from "../errors.js";
import { joinRemote, resolveLocal, resolveRemote } from "../paths.js";
import { runJobs } from "../transfer/jobs.js";
import { statOrNull } from "../transfer/remote.js";
import type { CommandSpec } from "./types.js";

export const put: CommandSpec = {
  name: "put",
  usage: "put [-p] LOCAL [REMOTE]",
  summary: "upload one file (into REMOTE if it is a directory)",
  details:
    "Resumes an interrupted upload of the same file. Asks before replacing a remote file (--yes: replace). -p keeps the file's mtime.",
  args: ["local", "remote"],
  async run(ctx, args) {
    const { flags, rest } = takeFlags(args, "p");
    const [src, dst] = rest;
    if (!src || rest.length > 2) throw usage(this.usage);
    const local = resolveLocal(ctx.state.localCwd, src.text);
    const st = await fs.stat(local).catch((err: NodeJS.ErrnoException) => {
      throw localFileError(err, printable(local));
    });
    if (st.isDirectory()) throw new CliError("EISDIR", `${printable(src.text)} is a directory; use mput -r`);
    const session = await ctx.session();
    const name = path.basename(local);
    let remote = dst ? resolveRemote(ctx.state.remoteCwd, dst.text) : joinRemote(ctx.state.remoteCwd, name);
    let existing = await statOrNull(session, remote);
    if (existing?.type === "dir" || (dst?.text.endsWith("/") && existing === null)) {
      remote = joinRemote(remote, name);
      existing = await statOrNull(session, remote);
    }
    let overwrite = false;
    let skip: string | undefined;
    if (existing) {
      if (existing.type === "dir") throw new CliError("EISDIR", `${printable(remote)} is a directory`);
      const choice = await ctx.conflicts().decide(printable(remote), false, "use --yes or rm it first");
      if (choice === "skip") skip = "exists";
      else overwrite = true;
    }
    const preserve = flags.has("p");
    await runJobs(ctx, [{ op: "put", local, remote, size: st.size, overwrite, skip, preserve }], false);
    return undefined;
  },
};
