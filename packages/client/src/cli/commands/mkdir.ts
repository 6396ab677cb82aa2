import { shortFlags, takeOptions } from "../command-options.js";
import { usage } from "../errors.js";
import { resolveRemote } from "../paths.js";
import type { CommandSpec } from "./types.js";

export const mkdir: CommandSpec = {
  name: "mkdir",
  usage: "mkdir [-p] PATH...",
  summary: "create remote directories (-p: with parents, no error if it exists)",
  args: ["remote"],
  async run(ctx, args) {
    const { flags, positionals: rest } = takeOptions(args, shortFlags("p"));
    if (rest.length === 0) throw usage(this.usage);
    const session = await ctx.session();
    for (const t of rest) {
      await session.mkdir(resolveRemote(ctx.state.remoteCwd, t.text), { parents: flags.has("p") });
    }
    ctx.state.forgetListings();
    return undefined;
  },
};
