import { takeOptions } from "../command-options.js";
import { usage } from "../errors.js";
import type { CommandSpec } from "./types.js";

/** Built with the table so it can describe every command, itself included. */
export function helpCommand(
  table: () => readonly CommandSpec[],
  find: (name: string) => CommandSpec | undefined,
) {
  const help: CommandSpec = {
    name: "help",
    aliases: ["?"],
    usage: "help [COMMAND]",
    summary: "list commands, or describe one",
    args: ["command"],
    async run(ctx, args) {
      const { positionals: rest } = takeOptions(args, []);
      if (rest.length > 1) throw usage(this.usage);
      const name = rest[0]?.text;
      if (name !== undefined) {
        const spec = find(name);
        if (!spec) throw usage(`unknown command "${name}"; type help for the list`);
        ctx.io.out(spec.usage);
        ctx.io.out(`  ${spec.summary}`);
        if (spec.details) ctx.io.out(`  ${spec.details}`);
        if (spec.aliases?.length) ctx.io.out(`  also: ${spec.aliases.join(", ")}`);
        return undefined;
      }
      // Every command and alias on one line each: `help` is where people look for what to type.
      const width = Math.max(...table().map((s) => s.usage.length));
      for (const s of table()) {
        const also = s.aliases?.length ? ` (also ${s.aliases.join(", ")})` : "";
        ctx.io.out(`${s.usage.padEnd(width)}  ${s.summary}${also}`);
      }
      ctx.io.out("");
      ctx.io.out("Options go anywhere on the line; -- ends them (put -- -r sends a file named -r).");
      ctx.io.out("Prefix a command with - to go on after it fails (batch mode).");
      return undefined;
    },
  };
  return help;
}
