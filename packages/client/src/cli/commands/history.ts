import { takeOptions } from "../command-options.js";
import { usage } from "../errors.js";
import { visible } from "../render/visible.js";
import type { CommandSpec } from "./types.js";

export const history: CommandSpec = {
  name: "history",
  usage: "history [N]",
  summary: "show the last N command lines (default all kept), numbered; Up-arrow recalls them",
  args: ["none"],
  async run(ctx, args) {
    const { positionals: rest } = takeOptions(args, []);
    const n = rest[0]?.text;
    if (rest.length > 1 || (n !== undefined && !/^\d+$/.test(n))) throw usage(this.usage);
    const lines = ctx.state.history;
    const from = n === undefined ? 0 : Math.max(0, lines.length - Number(n));
    const width = String(lines.length).length;
    for (let i = from; i < lines.length; i++) {
      ctx.io.out(`${String(i + 1).padStart(width)}  ${visible(lines[i] as string)}`);
    }
    return undefined;
  },
};
