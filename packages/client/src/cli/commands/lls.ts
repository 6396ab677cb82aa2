import fs from "node:fs/promises";
import path from "node:path";
import type { Entry } from "@ferry/protocol";
import { takeFlags } from "../args.js";
import { usage } from "../errors.js";
import { resolveLocal } from "../paths.js";
import { longLines } from "./ls.js";
import type { CommandSpec } from "./types.js";

async function localEntry(file: string, name: string): Promise<Entry> {
  const st = await fs.lstat(file);
  const type = st.isFile() ? "file" : st.isDirectory() ? "dir" : st.isSymbolicLink() ? "symlink" : "other";
  return { name, type, size: st.size, mtime: Math.floor(st.mtimeMs), md5: undefined };
}

export const lls: CommandSpec = {
  name: "lls",
  usage: "lls [-h] [PATH]",
  summary: "list a local directory",
  args: ["local"],
  async run(ctx, args) {
    const { flags, rest } = takeFlags(args, "lha");
    if (rest.length > 1) throw usage(this.usage);
    const target = resolveLocal(ctx.state.localCwd, rest[0]?.text ?? ".");
    const st = await fs.stat(target);
    const entries: Entry[] = [];
    if (st.isDirectory()) {
      const names = (await fs.readdir(target)).sort();
      for (const name of names) entries.push(await localEntry(path.join(target, name), name));
    } else {
      entries.push(await localEntry(target, path.basename(target)));
    }
    for (const line of longLines(entries, flags.has("h"))) ctx.io.out(line);
    return undefined;
  },
};
