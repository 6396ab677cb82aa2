import path from "node:path";
import { type FilterRule, remotePath, mirror as runMirror } from "../../lib/index.js";
import { type OptionSpec, takeOptions } from "../command-options.js";
import { CliError, codeOf, usage } from "../errors.js";
import { joinRemote, remoteBasename, resolveLocal, resolveRemote } from "../paths.js";
import { Reporter } from "../render/reporter.js";
import { MirrorReport } from "../transfer/mirror-report.js";
import type { CommandSpec } from "./types.js";

const OPTIONS: readonly OptionSpec[] = [
  { long: "reverse", short: "R" },
  { long: "dereference", short: "L" },
  { long: "delete" },
  { long: "dry-run", short: "n" },
  { long: "exclude", value: true },
  { long: "include", value: true },
  { long: "only-newer" },
  { long: "max-delete", value: true },
  { long: "checksum", short: "c" },
  { long: "json" },
];

/** A typed TARGET that ends in `/` (other than the root) means "into it", under the source's name (lftp). */
const into = (typed: string): boolean => typed.length > 1 && typed.endsWith("/");

export const mirror: CommandSpec = {
  name: "mirror",
  usage: "mirror [-R] [OPTS] SRC [DST]",
  summary: "make a local tree like a remote one (-R: the reverse); help mirror",
  details: [
    "mirror REMOTE [LOCAL] downloads, mirror -R LOCAL [REMOTE] uploads; DST defaults to the source's",
    "name in the current directory (a DST ending in / gets it too). Only what differs is sent (size and mtime; --checksum: md5), many",
    "files pipelined, mtimes kept; an interrupted mirror run again resumes. Options: --delete (remove",
    "what the source lacks, only after every transfer succeeded), --max-delete N (refuse before",
    "changing anything), -n/--dry-run (print the plan), --exclude GLOB and --include GLOB (repeatable,",
    "on paths relative to the source, ** spans directories, later ones win), --only-newer, -c/--checksum,",
    "-L (follow local links that stay inside the source; otherwise they are skipped with a note), --json.",
  ].join(" "),
  args: ["remote", "local"],
  async run(ctx, args) {
    const parsed = takeOptions(args, OPTIONS);
    const has = (name: string) => parsed.flags.has(name);
    if (parsed.positionals.length > 2) throw usage(this.usage);
    const upload = has("reverse");
    const filters: FilterRule[] = parsed.values
      .filter((v) => v.name === "include" || v.name === "exclude")
      .map((v) => ({ kind: v.name as FilterRule["kind"], pattern: v.value }));
    let maxDelete: number | undefined;
    for (const v of parsed.values) {
      if (v.name !== "max-delete") continue;
      if (!/^\d+$/.test(v.value)) throw usage(`--max-delete needs a number, not ${JSON.stringify(v.value)}`);
      maxDelete = Number(v.value);
    }
    if (has("dereference") && !upload) throw usage("-L follows local links of the source: use it with -R");

    // Without TARGET, the source's last name in the current directory; without either, both cwds.
    const [first, second] = parsed.positionals.map((t) => t.text);
    let local: string;
    let remote: string;
    if (upload) {
      local = resolveLocal(ctx.state.localCwd, first ?? ".");
      const base = path.basename(local);
      if (second !== undefined) {
        remote = resolveRemote(ctx.state.remoteCwd, second);
        if (into(second) && base !== "") remote = joinRemote(remote, base);
      } else {
        remote =
          first === undefined || base === "" ? ctx.state.remoteCwd : joinRemote(ctx.state.remoteCwd, base);
      }
    } else {
      remote = resolveRemote(ctx.state.remoteCwd, first ?? ".");
      const base = remoteBasename(remote);
      if (second !== undefined) {
        local = resolveLocal(ctx.state.localCwd, second);
        if (into(second) && base !== "") local = path.join(local, base);
      } else {
        local = first === undefined || base === "" ? ctx.state.localCwd : path.join(ctx.state.localCwd, base);
      }
    }

    const session = await ctx.session();
    const json = ctx.options.json || has("json");
    const reporter = has("json") ? new Reporter(ctx.io, { bars: false, json: true }) : ctx.reporter();
    const dryRun = has("dry-run");
    const report = new MirrorReport(ctx, reporter, json, dryRun, upload, (rel) =>
      upload ? remotePath(remote, rel) : path.join(local, ...rel.split("/")),
    );
    try {
      const result = await runMirror(
        session,
        {
          direction: upload ? "upload" : "download",
          local,
          remote,
          delete: has("delete"),
          maxDelete,
          dryRun,
          filters,
          onlyNewer: has("only-newer"),
          checksum: has("checksum"),
          followLinks: has("dereference"),
          signal: ctx.signal,
        },
        report.hooks,
      );
      report.finish(result);
    } catch (err) {
      if (codeOf(err) === "EABORTED" || ctx.signal.aborted) {
        throw new CliError("EABORTED", "interrupted; run the same mirror again to resume");
      }
      throw err;
    } finally {
      reporter.close();
      ctx.state.forgetListings();
    }
    return undefined;
  },
};
