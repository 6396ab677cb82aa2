import fs from "node:fs/promises";
import os from "node:os";
import { printable } from "../../lib/index.js";
import { shortFlags, takeOptions } from "../command-options.js";
import { CliError, localFileError, notConnected, usage } from "../errors.js";
import { resolveLocal, resolveRemote } from "../paths.js";
import type { CommandSpec } from "./types.js";

export const cd: CommandSpec = {
  name: "cd",
  usage: "cd [PATH | -]",
  summary: "change the remote directory (default /; - goes back to the previous one)",
  args: ["remote"],
  async run(ctx, args) {
    const { positionals: rest } = takeOptions(args, []);
    if (rest.length > 1) throw usage(this.usage);
    const back = rest[0]?.text === "-";
    if (back && ctx.state.previousRemoteCwd === null)
      throw new CliError("ENOENT", "no previous remote directory");
    const target = back
      ? (ctx.state.previousRemoteCwd as string)
      : resolveRemote(ctx.state.remoteCwd, rest[0]?.text ?? "/");
    const entry = await (await ctx.session()).stat(target);
    if (entry.type !== "dir") throw new CliError("ENOTDIR", `${printable(target)} is not a directory`);
    ctx.state.previousRemoteCwd = ctx.state.remoteCwd;
    ctx.state.remoteCwd = target;
    // As a shell's `cd -`: say where it went, since it was not typed.
    if (back) ctx.io.out(printable(target));
    return undefined;
  },
};

export const pwd: CommandSpec = {
  name: "pwd",
  usage: "pwd",
  summary: "print the remote directory",
  args: ["none"],
  async run(ctx, args) {
    takeOptions(args, []);
    if (!ctx.state.target) throw notConnected();
    ctx.io.out(printable(ctx.state.remoteCwd));
    return undefined;
  },
};

export const lcd: CommandSpec = {
  name: "lcd",
  usage: "lcd [PATH | -]",
  summary: "change the local directory (default: home; - goes back to the previous one)",
  args: ["local"],
  async run(ctx, args) {
    const { positionals: rest } = takeOptions(args, []);
    if (rest.length > 1) throw usage(this.usage);
    const back = rest[0]?.text === "-";
    if (back && ctx.state.previousLocalCwd === null)
      throw new CliError("ENOENT", "no previous local directory");
    const target = back
      ? (ctx.state.previousLocalCwd as string)
      : resolveLocal(ctx.state.localCwd, rest[0]?.text ?? os.homedir());
    const st = await fs.stat(target).catch((err: NodeJS.ErrnoException) => {
      throw localFileError(err, printable(target), "local directory");
    });
    if (!st.isDirectory()) throw new CliError("ENOTDIR", `local ${printable(target)} is not a directory`);
    ctx.state.previousLocalCwd = ctx.state.localCwd;
    ctx.state.localCwd = target;
    if (back) ctx.io.out(printable(target));
    return undefined;
  },
};

export const lpwd: CommandSpec = {
  name: "lpwd",
  usage: "lpwd",
  summary: "print the local directory",
  args: ["none"],
  async run(ctx, args) {
    takeOptions(args, []);
    ctx.io.out(printable(ctx.state.localCwd));
    return undefined;
  },
};

export const lmkdir: CommandSpec = {
  name: "lmkdir",
  usage: "lmkdir [-p] PATH...",
  summary: "create local directories (-p: with parents, no error if it exists)",
  args: ["local"],
  async run(ctx, args) {
    const { flags, positionals: rest } = takeOptions(args, shortFlags("p"));
    if (rest.length === 0) throw usage(this.usage);
    for (const t of rest) {
      const target = resolveLocal(ctx.state.localCwd, t.text);
      await fs.mkdir(target, { recursive: flags.has("p") }).catch((err: NodeJS.ErrnoException) => {
        throw localFileError(err, printable(target), "local directory");
      });
    }
    return undefined;
  },
};
