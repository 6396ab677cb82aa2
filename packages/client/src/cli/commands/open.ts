import { type FerrySession, printable } from "../../lib/index.js";
import { takeOptions } from "../command-options.js";
import { notConnected, usage } from "../errors.js";
import { parseTarget } from "../paths.js";
import type { CliState } from "../state.js";
import type { CommandSpec } from "./types.js";

export const open: CommandSpec = {
  name: "open",
  usage: "open [USER@]HOST[:PORT]",
  summary: "connect to a ferryd (asks for the secret or USER's password if the server needs one)",
  args: ["none"],
  async run(ctx, args) {
    const { positionals: rest } = takeOptions(args, []);
    if (rest.length !== 1) throw usage(this.usage);
    await ctx.settleOpen();
    const text = (rest[0] as { text: string }).text;
    const { user, host, port } = parseTarget(text, ctx.options.port);
    // An early session (a command line given up front) is answered later: Runner.settleOpen tells.
    const session = await ctx.state.open(
      { host, port, user },
      ctx.prompter,
      ctx.options.timeoutMs,
      `open ${text}`,
    );
    // A status line, not output: `$(ferry host -c pwd)` must capture only the directory.
    if (!ctx.options.json) {
      session.ready.then(
        () => ctx.io.err(connectedLine(ctx.state, session)),
        () => {},
      );
    }
    return undefined;
  },
};

/** "connected to HOST:PORT [as USER] (SERVER)", once the session's hello is answered. */
export function connectedLine(state: CliState, session: FerrySession): string {
  const target = state.target;
  const where = target ? `${printable(target.host)}:${target.port}` : "";
  const as = session.server.user === null ? "" : ` as ${printable(session.server.user)}`;
  return `connected to ${where}${as} (${printable(session.server.name)})`;
}

export const close: CommandSpec = {
  name: "close",
  usage: "close",
  summary: "disconnect",
  args: ["none"],
  async run(ctx, args) {
    takeOptions(args, []);
    await ctx.settleOpen();
    const target = ctx.state.target;
    if (!target) throw notConnected();
    await ctx.state.close();
    if (!ctx.options.json) ctx.io.err(`disconnected from ${printable(target.host)}:${target.port}`);
    return undefined;
  },
};
