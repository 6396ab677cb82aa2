import { printable } from "../../lib/index.js";
import { takeOptions } from "../command-options.js";
import { CliError, describeError, usage } from "../errors.js";
import { expandGlob } from "../glob.js";
import { resolveRemote } from "../paths.js";
import { visible } from "../render/visible.js";
import { remoteLister } from "../transfer/remote.js";
import { inWindow, TRANSFER_WINDOW } from "../transfer/window.js";
import type { CommandSpec } from "./types.js";

export const sum: CommandSpec = {
  name: "sum",
  aliases: ["md5sum"],
  usage: "sum PATH...",
  summary: "print the md5 of remote files, hashed by the server",
  details:
    "Globs too. Nothing is downloaded. Prints `MD5  PATH` lines like md5sum; with --json, one JSON line per file with size and mtime.",
  args: ["remote"],
  async run(ctx, args) {
    const { positionals } = takeOptions(args, []);
    if (positionals.length === 0) throw usage(this.usage);
    const session = await ctx.session();
    const paths: string[] = [];
    for (const token of positionals) {
      if (!token.glob) {
        paths.push(resolveRemote(ctx.state.remoteCwd, token.text));
        continue;
      }
      const matches = await expandGlob(token.pattern, ctx.state.remoteCwd, remoteLister(session), (d, n) =>
        d.endsWith("/") ? d + n : `${d}/${n}`,
      );
      const files = matches.filter((m) => m.entry?.type !== "dir");
      if (files.length === 0) throw new CliError("ENOENT", `no remote match for ${printable(token.text)}`);
      paths.push(...files.map((m) => m.path));
    }
    // Sums are pipelined; the lines still come out in the order the paths were given.
    const results = new Array<Awaited<ReturnType<typeof session.sum>> | Error>(paths.length);
    await inWindow(
      paths,
      TRANSFER_WINDOW,
      async (p, i) => {
        results[i] = await session.sum(p).catch((err: Error) => err);
      },
      ctx.signal,
    );
    let failure: Error | null = null;
    for (const [i, r] of results.entries()) {
      if (r === undefined) continue;
      if (r instanceof Error) {
        failure ??= r;
        // One line per file that failed, as mget/mput print theirs; the command's own line follows.
        if (paths.length > 1)
          ctx.io.err(`sum ${printable(paths[i] as string)}: ${visible(describeError(r))}`);
        continue;
      }
      // md5 keeps its JSON field; another algorithm's value rides in `hash`, named by `alg` (§1.2).
      const value = r.alg === "md5" ? { md5: r.hash } : { alg: r.alg, hash: r.hash };
      if (ctx.options.json)
        ctx.io.json({ kind: "sum", path: r.path, size: r.size, mtime: r.mtime, ...value });
      else ctx.io.out(`${r.hash}  ${printable(r.path)}`);
    }
    if (ctx.signal.aborted) throw new CliError("EABORTED", "interrupted");
    if (failure) throw failure;
    return undefined;
  },
};
