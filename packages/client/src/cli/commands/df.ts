import { shortFlags, takeOptions } from "../command-options.js";
import { usage } from "../errors.js";
import { humanSize } from "../render/format.js";
import type { CommandSpec } from "./types.js";

function percentUsed(used: number, total: number): string {
  return total > 0 ? `${Math.round((used / total) * 100)}%` : "-";
}

export const df: CommandSpec = {
  name: "df",
  usage: "df [-h]",
  summary: "show the server's free disk space, and your quota where the server keeps one (-h: human sizes)",
  args: ["none"],
  async run(ctx, args) {
    const { flags, positionals: rest } = takeOptions(args, shortFlags("h"));
    if (rest.length > 0) throw usage(this.usage);
    const u = await (await ctx.session()).df();
    if (ctx.options.json) {
      ctx.io.json({ kind: "df", ...u });
      return undefined;
    }
    const size = (n: number) => (flags.has("h") ? humanSize(n) : String(n));
    if (u.free === undefined || u.total === undefined) {
      ctx.io.out("free space: not reported by this server's storage (an object store has no such limit)");
    } else {
      // Like df(1) and sftp's df: used is what is not free, which counts other users of the disk too.
      const used = Math.max(0, u.total - u.free);
      const rows = [
        ["Size", "Used", "Avail", "Use%"],
        [size(u.total), size(used), size(u.free), percentUsed(used, u.total)],
      ];
      const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] as string).length))) ?? [];
      for (const r of rows) ctx.io.out(r.map((cell, c) => cell.padStart(widths[c] as number)).join("  "));
    }
    if (u.quotaBytes !== undefined) {
      const usedBytes = u.usedBytes ?? 0;
      ctx.io.out(
        `quota: ${size(usedBytes)} of ${size(u.quotaBytes)} used (${percentUsed(usedBytes, u.quotaBytes)})`,
      );
    }
    if (u.quotaFiles !== undefined) {
      const usedFiles = u.usedFiles ?? 0;
      ctx.io.out(`files: ${usedFiles} of ${u.quotaFiles} (${percentUsed(usedFiles, u.quotaFiles)})`);
    }
    return undefined;
  },
};
