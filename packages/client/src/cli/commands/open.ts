import { printable } from "../../lib/index.js";
import { notConnected, usage } from "../errors.js";
import { parseTarget } from "../paths.js";
import type { CommandSpec } from "./types.js";

export const open: CommandSpec = {
  name: "open",
  usage: "open [USER@]HOST[:PORT]",
  summary: "connect to a ferryd (asks for the secret or USER's password if the server needs one)",
  args: ["none"],
  async run(ctx, args) {
    if (args.length !== 1) throw usage(this.usage);
    const { user, host, port } = parseTarget((args[0] as { text: string }).text, ctx.options.port);
    const session = await ctx.state.open({ host, port, user }, ctx.prompter, ctx.options.timeoutMs);
    if (!ctx.options.json) {
      const as = session.server.user === null ? "" : ` as ${printable(session.server.user)}`;
      ctx.io.out(`connected to ${printable(host)}:${port}${as} (${printable(session.server.name)})`);
    }
    return undefined;
  },
};

export const close: CommandSpec = {
  name: "close",
  usage: "close",
  summary: "disconnect",
  args: ["none"],
  async run(ctx) {
    if (!ctx.state.target) throw notConnected();
    await ctx.state.close();
    return undefined;
  },
};
