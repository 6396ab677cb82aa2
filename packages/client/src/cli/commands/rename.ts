import { takeOptions } from "../command-options.js";
import { usage } from "../errors.js";
import { joinRemote, remoteBasename, resolveRemote } from "../paths.js";
import { statOrNull } from "../transfer/remote.js";
import type { CommandSpec } from "./types.js";

export const rename: CommandSpec = {
  name: "rename",
  aliases: ["mv"],
  usage: "rename OLD NEW",
  summary: "rename or move a remote file or directory (into NEW when it is a directory or ends with /)",
  details: "An existing file NEW is replaced only with --yes.",
  args: ["remote", "remote"],
  async run(ctx, args) {
    const { positionals: rest } = takeOptions(args, []);
    const [from, to] = rest;
    if (!from || !to || rest.length > 2) throw usage(this.usage);
    const session = await ctx.session();
    const cwd = ctx.state.remoteCwd;
    const source = resolveRemote(cwd, from.text);
    let target = resolveRemote(cwd, to.text);
    // As mv: a directory (or a name ending in /) as the target means "into it".
    if (to.text.endsWith("/") || (await statOrNull(session, target))?.type === "dir") {
      target = joinRemote(target, remoteBasename(source));
    }
    await session.rename(source, target, { overwrite: ctx.options.yes });
    ctx.state.forgetListings();
    return undefined;
  },
};
