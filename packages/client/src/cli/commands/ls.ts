import type { Entry } from "@ferry/protocol";
import { type FerrySession, printable } from "../../lib/index.js";
import type { Token } from "../args.js";
import { shortFlags, takeOptions } from "../command-options.js";
import { CliError } from "../errors.js";
import { expandGlob } from "../glob.js";
import { joinRemote, remoteBasename, remoteDirname, resolveRemote } from "../paths.js";
import { arrange, LISTING_FLAGS, type ListingStyle, listingLines, listingStyle } from "../render/listing.js";
import { remoteLister } from "../transfer/remote.js";
import type { CommandSpec, Context } from "./types.js";

/** What one operand of ls/lls lists: a directory's entries, or entries named (a file, glob matches). */
export interface Group {
  /** The directory listed; null for named entries. */
  dir: string | null;
  /** Where the entries are, for their paths in --json. */
  parent: string;
  entries: Entry[];
}

/**
 * Prints groups the way ls does: named entries first, then each directory, under a `DIR:` heading
 * when there is more than one thing to show. `-R` descends into the subdirectories of each
 * directory (through `list`, which gives a directory's entries); Ctrl-C stops the walk.
 */
export async function printGroups(
  ctx: Context,
  groups: Group[],
  style: ListingStyle,
  list: (dir: string) => Promise<Entry[]>,
  join: (dir: string, name: string) => string,
): Promise<void> {
  const columns = ctx.io.stdout.isTTY === true ? (ctx.io.stdout as { columns?: number }).columns || 80 : null;
  const named = groups.filter((g) => g.dir === null);
  const queue = groups.filter((g) => g.dir !== null);
  let printed = 0;
  const headings = groups.length > 1 || style.recursive;
  const show = (group: Group, heading: string | null): void => {
    const entries =
      group.dir === null ? arrange(group.entries, { ...style, all: true }) : arrange(group.entries, style);
    if (ctx.options.json) {
      for (const e of entries) ctx.io.json({ kind: "entry", path: join(group.parent, e.name), ...e });
      return;
    }
    if (heading !== null) {
      if (printed > 0) ctx.io.out("");
      ctx.io.out(`${printable(heading)}:`);
    }
    for (const line of listingLines(entries, style, columns)) ctx.io.out(line);
    printed++;
  };
  const files = named.flatMap((g) => g.entries.map((e) => ({ e, parent: g.parent })));
  if (files.length > 0) {
    // Named entries in one block, each keeping its own parent for --json.
    const byParent = new Map<string, Entry[]>();
    for (const f of files) byParent.set(f.parent, [...(byParent.get(f.parent) ?? []), f.e]);
    if (ctx.options.json)
      for (const [parent, entries] of byParent) show({ dir: null, parent, entries }, null);
    else show({ dir: null, parent: "", entries: files.map((f) => f.e) }, null);
  }
  while (queue.length > 0 && !ctx.signal.aborted) {
    const group = queue.shift() as Group;
    const dir = group.dir as string;
    show(group, headings ? dir : null);
    if (!style.recursive) continue;
    const subdirs = arrange(group.entries, style).filter((e) => e.type === "dir");
    const below: Group[] = [];
    for (const d of subdirs) {
      const path = join(dir, d.name);
      below.push({ dir: path, parent: path, entries: await list(path) });
    }
    queue.unshift(...below);
  }
  if (ctx.signal.aborted) throw new CliError("EABORTED", "interrupted");
}

async function remoteGroups(ctx: Context, session: FerrySession, tokens: readonly Token[]): Promise<Group[]> {
  const groups: Group[] = [];
  for (const t of tokens.length > 0 ? tokens : [{ text: ".", pattern: ".", glob: false }]) {
    if (t.glob) {
      const matches = await expandGlob(t.pattern, ctx.state.remoteCwd, remoteLister(session), joinRemote);
      if (matches.length === 0) throw new CliError("ENOENT", `no remote match for ${printable(t.text)}`);
      for (const m of matches) {
        const entry = (m.entry as Entry | undefined) ?? (await session.stat(m.path));
        groups.push({ dir: null, parent: remoteDirname(m.path), entries: [entry] });
      }
      continue;
    }
    const target = resolveRemote(ctx.state.remoteCwd, t.text);
    const entries = await session.list(target);
    // Listing a file gives that one entry; only then is a stat needed to tell it from a directory.
    if (entries.length === 1 && entries[0]?.name === remoteBasename(target)) {
      if ((await session.stat(target)).type !== "dir") {
        groups.push({ dir: null, parent: remoteDirname(target), entries });
        continue;
      }
    }
    groups.push({ dir: target, parent: target, entries });
  }
  return groups;
}

export const ls: CommandSpec = {
  name: "ls",
  usage: "ls [-l1atSrRh] [PATH|PATTERN...]",
  summary: "list remote directories or files (-l long, -a dot names, -t/-S by time/size, -R recursive)",
  details:
    "Short (names in columns on a terminal, one per line otherwise) unless -l; -1 one per line, -r reverse order, -h human sizes with -l. Directories end with /.",
  args: ["remote"],
  async run(ctx, args) {
    const { flags, positionals: rest } = takeOptions(args, shortFlags(LISTING_FLAGS));
    const session = await ctx.session();
    const groups = await remoteGroups(ctx, session, rest);
    await printGroups(ctx, groups, listingStyle(flags), (dir) => session.list(dir), joinRemote);
    return undefined;
  },
};

/** Classic ftp's `dir`: the long listing. */
export const dir: CommandSpec = {
  ...ls,
  name: "dir",
  usage: "dir [-1atSrRh] [PATH|PATTERN...]",
  summary: "list remote directories in the long format (ls -l)",
  details: undefined,
  async run(ctx, args) {
    const { flags, positionals: rest } = takeOptions(args, shortFlags(LISTING_FLAGS));
    flags.add("l");
    const session = await ctx.session();
    const groups = await remoteGroups(ctx, session, rest);
    await printGroups(ctx, groups, listingStyle(flags), (d) => session.list(d), joinRemote);
    return undefined;
  },
};
