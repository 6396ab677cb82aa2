import { printable } from "../../lib/index.js";
import { takeOptions } from "../command-options.js";
import { notConnected, usage } from "../errors.js";
import { parseTarget } from "../paths.js";
import type { CommandSpec } from "./types.js";

export const open: CommandSpec = {
  name: "open",
  usage: "open [USER@]HOST[:PORT]",
  summary: "connect to a ferryd (asks for the secret or USER's password if the server needs one)",
  args: ["none"],
  async run(ctx, args) {
    const { positionals: rest } = takeOptions(args, []);
    if (rest.length !== 1) throw usage(this.usage);
    const { user, host, port } = parseTarget((rest[0] as { text: string }).text, ctx.options.port);
    const session = await ctx.state.open({ host, port, user }, ctx.prompter, ctx.options.timeoutMs);
    // A status line, not output: `$(ferry host -c pwd)` must capture only the directory.
    if (!ctx.options.json) {
      const as = session.server.user === null ? "" : ` as ${printable(session.server.user)}`;
      ctx.io.err(`connected to ${printable(host)}:${port}${as} (${printable(session.server.name)})`);
    }
    return undefined;
  },
};

export const close: CommandSpec = {
  name: "close",
  usage: "close",
  summary: "disconnect",
  args: ["none"],
  async run(ctx, args) {
    takeOptions(args, []);
    const target = ctx.state.target;
    if (!target) throw notConnected();
    await ctx.state.close();
    if (!ctx.options.json) ctx.io.err(`disconnected from ${printable(target.host)}:${target.port}`);
    return undefined;
  },
};
