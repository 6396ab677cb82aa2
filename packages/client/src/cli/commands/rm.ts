import { printable } from "../../lib/index.js";
import { shortFlags, takeOptions } from "../command-options.js";
import { CliError, usage } from "../errors.js";
import { expandGlob } from "../glob.js";
import { joinRemote, resolveRemote } from "../paths.js";
import { remoteLister } from "../transfer/remote.js";
import type { CommandSpec } from "./types.js";

export const rm: CommandSpec = {
  name: "rm",
  aliases: ["delete"],
  usage: "rm [-r] [-f] PATTERN...",
  summary: "delete remote files (globs; -r: directories with their contents)",
  details:
    "Asks before deleting more than one file matched by a glob, and before deleting a directory with -r (--yes or -f: delete without asking).",
  args: ["remote"],
  async run(ctx, args) {
    const { flags, positionals: rest } = takeOptions(args, shortFlags("rf"));
    if (rest.length === 0) throw usage(this.usage);
    const recursive = flags.has("r");
    const session = await ctx.session();
    const targets: { path: string; type?: string }[] = [];
    let globbed = 0;
    for (const t of rest) {
      if (!t.glob) {
        targets.push({ path: resolveRemote(ctx.state.remoteCwd, t.text) });
        continue;
      }
      const matches = await expandGlob(t.pattern, ctx.state.remoteCwd, remoteLister(session), joinRemote);
      if (matches.length === 0) throw new CliError("ENOENT", `no remote match for ${printable(t.text)}`);
      globbed += matches.length;
      for (const m of matches) targets.push({ path: m.path, type: m.entry?.type });
    }
    for (const t of targets) {
      t.type ??= (await session.stat(t.path)).type;
      if (t.type === "dir" && !recursive) {
        throw new CliError("EISDIR", `${printable(t.path)} is a directory; use rmdir, or rm -r`);
      }
    }
    const trees = targets.filter((t) => t.type === "dir");
    if ((globbed > 1 || trees.length > 0) && !ctx.options.yes && !flags.has("f")) {
      // A whole tree goes as easily as many files: the same question, naming what is at stake.
      const what =
        trees.length === 1 && targets.length === 1
          ? `delete ${printable((trees[0] as { path: string }).path)} and everything in it?`
          : trees.length > 0
            ? `delete ${targets.length} entries, ${trees.length} of them directories with everything in them?`
            : `delete ${targets.length} files?`;
      const ok = await ctx.prompter.confirm(what);
      if (!ok) throw new CliError("EABORTED", "nothing deleted");
    }
    try {
      await Promise.all(targets.map((t) => session.delete(t.path, { recursive })));
    } finally {
      ctx.state.forgetListings();
    }
    return undefined;
  },
};

export const rmdir: CommandSpec = {
  name: "rmdir",
  usage: "rmdir PATH...",
  summary: "delete empty remote directories",
  args: ["remote"],
  async run(ctx, args) {
    const { positionals: rest } = takeOptions(args, []);
    if (rest.length === 0) throw usage(this.usage);
    const session = await ctx.session();
    for (const t of rest) {
      const target = resolveRemote(ctx.state.remoteCwd, t.text);
      const entry = await session.stat(target);
      if (entry.type !== "dir") throw new CliError("ENOTDIR", `${printable(target)} is not a directory`);
      await session.delete(target);
    }
    ctx.state.forgetListings();
    return undefined;
  },
};
