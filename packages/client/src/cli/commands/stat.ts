import { printable } from "../../lib/index.js";
import { takeOptions } from "../command-options.js";
import { usage } from "../errors.js";
import { resolveRemote } from "../paths.js";
import { formatMtime, humanSize } from "../render/format.js";
import type { CommandSpec } from "./types.js";

export const stat: CommandSpec = {
  name: "stat",
  usage: "stat PATH",
  summary: "show a remote file's type, size, mtime and md5 (when the server knows it)",
  args: ["remote"],
  async run(ctx, args) {
    const { positionals: rest } = takeOptions(args, []);
    if (rest.length !== 1) throw usage(this.usage);
    const target = resolveRemote(ctx.state.remoteCwd, (rest[0] as { text: string }).text);
    const e = await (await ctx.session()).stat(target);
    if (ctx.options.json) {
      ctx.io.json({ kind: "entry", path: target, ...e });
      return undefined;
    }
    ctx.io.out(`path:  ${printable(target)}`);
    ctx.io.out(`type:  ${e.type}`);
    ctx.io.out(`size:  ${e.size} (${humanSize(e.size)})`);
    ctx.io.out(`mtime: ${formatMtime(e.mtime)}`);
    if (e.md5) ctx.io.out(`md5:   ${e.md5}`);
    return undefined;
  },
};
