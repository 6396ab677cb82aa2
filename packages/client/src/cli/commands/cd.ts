import fs from "node:fs/promises";
import os from "node:os";
import { printable } from "../../lib/index.js";
import { CliError, usage } from "../errors.js";
import { resolveLocal, resolveRemote } from "../paths.js";
import type { CommandSpec } from "./types.js";

export const cd: CommandSpec = {
  name: "cd",
  usage: "cd [PATH]",
  summary: "change the remote directory (default /)",
  args: ["remote"],
  async run(ctx, args) {
    if (args.length > 1) throw usage(this.usage);
    const target = resolveRemote(ctx.state.remoteCwd, args[0]?.text ?? "/");
    const entry = await (await ctx.session()).stat(target);
    if (entry.type !== "dir") throw new CliError("ENOTDIR", `${printable(target)} is not a directory`);
    ctx.state.remoteCwd = target;
    return undefined;
  },
};

export const pwd: CommandSpec = {
  name: "pwd",
  usage: "pwd",
  summary: "print the remote directory",
  args: ["none"],
  async run(ctx) {
    ctx.io.out(printable(ctx.state.remoteCwd));
    return undefined;
  },
};

export const lcd: CommandSpec = {
  name: "lcd",
  usage: "lcd [PATH]",
  summary: "change the local directory (default: home)",
  args: ["local"],
  async run(ctx, args) {
    if (args.length > 1) throw usage(this.usage);
    const target = resolveLocal(ctx.state.localCwd, args[0]?.text ?? os.homedir());
    const st = await fs.stat(target).catch((err: NodeJS.ErrnoException) => {
      throw new CliError(err.code ?? "ENOENT", `${printable(target)}: ${err.message}`);
    });
    if (!st.isDirectory()) throw new CliError("ENOTDIR", `${printable(target)} is not a directory`);
    ctx.state.localCwd = target;
    return undefined;
  },
};

export const lpwd: CommandSpec = {
  name: "lpwd",
  usage: "lpwd",
  summary: "print the local directory",
  args: ["none"],
  async run(ctx) {
    ctx.io.out(printable(ctx.state.localCwd));
    return undefined;
  },
};
