import fs from "node:fs/promises";
import path from "node:path";
import type { Entry } from "@ferry/protocol";
import { printable } from "../../lib/index.js";
import { shortFlags, takeOptions } from "../command-options.js";
import { CliError, localFileError } from "../errors.js";
import { expandGlob } from "../glob.js";
import { resolveLocal } from "../paths.js";
import { LISTING_FLAGS, listingStyle } from "../render/listing.js";
import { localList } from "../transfer/local.js";
import { type Group, printGroups } from "./ls.js";
import type { CommandSpec } from "./types.js";

async function localEntry(file: string, name: string): Promise<Entry> {
  const st = await fs.lstat(file).catch((err: NodeJS.ErrnoException) => {
    throw localFileError(err, printable(file));
  });
  const type = st.isFile() ? "file" : st.isDirectory() ? "dir" : st.isSymbolicLink() ? "symlink" : "other";
  return { name, type, size: st.size, mtime: Math.floor(st.mtimeMs), md5: undefined };
}

/** A local directory's entries, sorted by name as a server sends them. */
async function localEntries(dir: string): Promise<Entry[]> {
  const names = (
    await fs.readdir(dir).catch((err: NodeJS.ErrnoException) => {
      throw localFileError(err, printable(dir), "local directory");
    })
  ).sort();
  const out: Entry[] = [];
  for (const name of names) out.push(await localEntry(path.join(dir, name), name));
  return out;
}

export const lls: CommandSpec = {
  name: "lls",
  usage: "lls [-l1atSrRh] [PATH|PATTERN...]",
  summary: "list local directories or files (the flags of ls)",
  args: ["local"],
  async run(ctx, args) {
    const { flags, positionals: rest } = takeOptions(args, shortFlags(LISTING_FLAGS));
    const groups: Group[] = [];
    for (const t of rest.length > 0 ? rest : [{ text: ".", pattern: ".", glob: false }]) {
      if (t.glob) {
        const matches = await expandGlob(t.pattern, ctx.state.localCwd, localList, path.join);
        if (matches.length === 0) throw new CliError("ENOENT", `no local match for ${printable(t.text)}`);
        for (const m of matches) {
          groups.push({
            dir: null,
            parent: path.dirname(m.path),
            entries: [await localEntry(m.path, path.basename(m.path))],
          });
        }
        continue;
      }
      const target = resolveLocal(ctx.state.localCwd, t.text);
      const st = await fs.stat(target).catch((err: NodeJS.ErrnoException) => {
        throw localFileError(err, printable(target));
      });
      if (st.isDirectory()) groups.push({ dir: target, parent: target, entries: await localEntries(target) });
      else
        groups.push({
          dir: null,
          parent: path.dirname(target),
          entries: [await localEntry(target, path.basename(target))],
        });
    }
    await printGroups(ctx, groups, listingStyle(flags), localEntries, path.join);
    return undefined;
  },
};
