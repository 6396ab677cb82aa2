import type { Entry } from "@ferry/protocol";
import { printable } from "../../lib/index.js";
import { takeFlags } from "../args.js";
import { usage } from "../errors.js";
import { joinRemote, remoteBasename, remoteDirname, resolveRemote } from "../paths.js";
import { formatMtime, humanSize } from "../render/format.js";
import type { CommandSpec, Context } from "./types.js";

const TYPE_CHAR: Record<string, string> = { file: "-", dir: "d", symlink: "l", other: "?" };

/** Long listing lines: type, size (right-aligned), mtime, printable name (`/` after directories). */
export function longLines(entries: readonly Entry[], human: boolean): string[] {
  const sizes = entries.map((e) => (human ? humanSize(e.size) : String(e.size)));
  const width = Math.max(0, ...sizes.map((s) => s.length));
  return entries.map(
    (e, i) =>
      `${TYPE_CHAR[e.type] ?? "?"} ${(sizes[i] as string).padStart(width)}  ${formatMtime(e.mtime)}  ${printable(e.name)}${e.type === "dir" ? "/" : ""}`,
  );
}

export function printEntries(ctx: Context, dir: string, entries: readonly Entry[], human: boolean): void {
  if (ctx.options.json) {
    for (const e of entries) ctx.io.json({ kind: "entry", path: joinRemote(dir, e.name), ...e });
    return;
  }
  for (const line of longLines(entries, human)) ctx.io.out(line);
}

export const ls: CommandSpec = {
  name: "ls",
  aliases: ["dir"],
  usage: "ls [-l] [-h] [PATH]",
  summary: "list a remote directory (long format; -h human sizes)",
  args: ["remote"],
  async run(ctx, args) {
    const { flags, rest } = takeFlags(args, "lha");
    if (rest.length > 1) throw usage(this.usage);
    const session = await ctx.session();
    const target = resolveRemote(ctx.state.remoteCwd, rest[0]?.text ?? ".");
    const entries = await session.list(target);
    // Listing a file gives that one entry; its path is then the parent's. Only then is a stat needed.
    let dir = target;
    if (entries.length === 1 && entries[0]?.name === remoteBasename(target)) {
      if ((await session.stat(target)).type !== "dir") dir = remoteDirname(target);
    }
    printEntries(ctx, dir, entries, flags.has("h"));
    return undefined;
  },
};
