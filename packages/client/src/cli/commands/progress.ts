import { takeOptions } from "../command-options.js";
import { usage } from "../errors.js";
import type { CommandSpec } from "./types.js";

export const progress: CommandSpec = {
  name: "progress",
  usage: "progress [on|off]",
  summary: "turn progress bars on or off (no argument: toggle)",
  args: ["none"],
  async run(ctx, args) {
    const { positionals: rest } = takeOptions(args, []);
    const word = rest[0]?.text;
    if (rest.length > 1 || (word !== undefined && word !== "on" && word !== "off")) throw usage(this.usage);
    ctx.state.progress = word === undefined ? !ctx.state.progress : word === "on";
    ctx.io.err(`progress bars ${ctx.state.progress ? "on" : "off"}`);
    return undefined;
  },
};
