import { CliError } from "../errors.js";
import type { CommandSpec } from "./types.js";

/** `!cmd`: the runner sends lines starting with `!` here with the rest of the line untouched. */
export const shell: CommandSpec = {
  name: "!",
  usage: "!COMMAND",
  summary: "run a local shell command in the local directory",
  args: ["local"],
  async run(ctx, args) {
    const command = args.map((a) => a.text).join(" ");
    const status = await ctx.shell(command === "" ? (process.env.SHELL ?? "/bin/sh") : command);
    if (status !== 0) throw new CliError("ESHELL", `exit status ${status}`);
    return undefined;
  },
};
