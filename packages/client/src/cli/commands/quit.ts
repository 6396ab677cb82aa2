import { takeOptions } from "../command-options.js";
import type { CommandSpec } from "./types.js";

export const quit: CommandSpec = {
  name: "quit",
  aliases: ["exit", "bye"],
  usage: "quit",
  summary: "disconnect and leave",
  args: ["none"],
  async run(_ctx, args) {
    takeOptions(args, []);
    return "quit";
  },
};
