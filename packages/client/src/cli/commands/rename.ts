import { usage } from "../errors.js";
import { resolveRemote } from "../paths.js";
import type { CommandSpec } from "./types.js";

export const rename: CommandSpec = {
  name: "rename",
  aliases: ["mv"],
  usage: "rename OLD NEW",
  summary: "rename or move a remote file or directory",
  args: ["remote", "remote"],
  async run(ctx, args) {
    const [from, to] = args;
    if (!from || !to || args.length > 2) throw usage(this.usage);
    const session = await ctx.session();
    const cwd = ctx.state.remoteCwd;
    await session.rename(resolveRemote(cwd, from.text), resolveRemote(cwd, to.text), {
      overwrite: ctx.options.yes,
    });
    ctx.state.forgetListings();
    return undefined;
  },
};
