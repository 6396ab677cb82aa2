import fs from "node:fs/promises";
import path from "node:path";
import type { Entry } from "@ferry/protocol";
import { type FerrySession, isSafeRemoteName, PART_SUFFIX, printable } from "../../lib/index.js";
import type { Token } from "../args.js";
import { shortFlags, takeOptions } from "../command-options.js";
import { CliError, usage } from "../errors.js";
import { expandGlob } from "../glob.js";
import { isInside, joinRemote, remoteBasename, resolveRemote } from "../paths.js";
import { decideGet, knownHash, type TargetMode } from "../transfer/decide.js";
import { decideAndRun, showLocal } from "../transfer/jobs.js";
import { localStatOrNull } from "../transfer/local.js";
import { askHashesAhead, remoteLister } from "../transfer/remote.js";
import { inWindow, TRANSFER_WINDOW } from "../transfer/window.js";
import type { CommandSpec, Context } from "./types.js";

interface Planned {
  remote: string;
  local: string;
  size: number;
  /** The hash the server knows, in the session's alg (`md5` or `hash`, as the entry had it). */
  md5?: string;
  hash?: string;
  error?: unknown;
}

function unsafe(remote: string): CliError {
  return new CliError("EBADPATH", `unsafe name from the server: ${printable(remote)}; nothing written`);
}

/**
 * The local path for a remote name under `dir`, or an error: names the server sends are never
 * trusted (no `/`, `..`, control characters; CVE-2019-6111), and the result must stay in `dest`.
 */
function localTarget(dest: string, dir: string, name: string): string | null {
  if (!isSafeRemoteName(name)) return null;
  const target = path.join(dir, name);
  return isInside(dest, target) && target !== path.resolve(dest) ? target : null;
}

/**
 * Walks a remote tree level by level, listing each level's directories in one pipelined window.
 * Each directory is made locally, and its names read (see localNames), as soon as its listing is
 * in: that local work overlaps the round trips of the listings still out. `first` is the root's
 * listing when the caller already sent it.
 */
async function walkRemote(
  ctx: Context,
  root: { remote: string; local: string },
  dest: string,
  present: Map<string, Set<string>>,
  files: Planned[],
  first?: Promise<Entry[]>,
): Promise<void> {
  const session = await ctx.session();
  let level = [root];
  while (level.length > 0 && !ctx.signal.aborted) {
    const next: typeof level = [];
    await inWindow(level, TRANSFER_WINDOW, async (d) => {
      const entries: Entry[] = await (d === root && first ? first : session.list(d.remote));
      const prepared = prepareLocalDir(d.local, present);
      prepared.catch(() => {});
      for (const e of entries) {
        const remote = joinRemote(d.remote, e.name);
        const local = localTarget(dest, d.local, e.name);
        if (local === null) {
          files.push({ remote, local: dest, size: 0, error: unsafe(remote) });
        } else if (e.type === "dir") {
          next.push({ remote, local });
        } else if (e.type === "file" || e.type === "symlink") {
          files.push({ remote, local, size: e.size, md5: e.md5, hash: e.hash });
        } else {
          ctx.io.err(`skipping ${printable(remote)}: not a regular file`);
        }
      }
      await prepared;
    });
    level = next;
  }
}

/** Makes a local directory of the tree and notes the names already in it (see localNames). */
async function prepareLocalDir(dir: string, present: Map<string, Set<string>>): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const names = await fs.readdir(dir).catch(() => null);
  if (names) present.set(dir, new Set(names));
}

/**
 * The names in each local directory, one listing per directory rather than a stat (and a look for
 * a `.part`) per file: once gets start creating files, each such lookup of a name not there waits
 * on the directory's lock. A directory that cannot be listed is left out; its files are stat'ed.
 */
async function localNames(dirs: readonly string[], out: Map<string, Set<string>>): Promise<void> {
  const missing = [...new Set(dirs)].filter((dir) => !out.has(dir));
  await inWindow(missing, TRANSFER_WINDOW, async (dir) => {
    const names = await fs.readdir(dir).catch(() => null);
    if (names) out.set(dir, new Set(names));
  });
}

/**
 * stat of a path, with its listing sent right behind it when `recursive` (handed to `onListing`
 * before the stat's answer is awaited; its failure is the walk's to meet, or nobody's).
 */
async function statAndList(
  session: FerrySession,
  remote: string,
  recursive: boolean,
  onListing: (listing: Promise<Entry[]>) => void,
): Promise<Entry> {
  const stat = session.stat(remote);
  if (recursive) {
    const listing = session.list(remote);
    listing.catch(() => {});
    onListing(listing);
  }
  return stat;
}

/** Remote paths for words: globs expanded (no match is ENOENT, entries kept), plain words resolved. */
export async function remoteSources(
  ctx: Context,
  session: FerrySession,
  tokens: readonly Token[],
): Promise<{ path: string; entry?: Entry }[]> {
  const out: { path: string; entry?: Entry }[] = [];
  for (const token of tokens) {
    const matches = token.glob
      ? await expandGlob(token.pattern, ctx.state.remoteCwd, remoteLister(session), joinRemote)
      : [{ path: resolveRemote(ctx.state.remoteCwd, token.text) }];
    if (matches.length === 0) throw new CliError("ENOENT", `no remote match for ${printable(token.text)}`);
    // remoteLister hands back the session's own Entry objects.
    for (const m of matches) out.push({ path: m.path, entry: m.entry as Entry | undefined });
  }
  return out;
}

/**
 * Downloads remote paths into `dest`: each to `local` when given (already checked by the caller),
 * else to `dest/NAME` with NAME checked as every name from the server is. Directories go as whole
 * trees when `recursive`. Identical local files are skipped as up to date; others are asked about
 * (`mode`), and `preserve` gives each file the server's mtime (-p).
 */
export async function downloadMany(
  ctx: Context,
  sources: readonly { path: string; entry?: Entry; local?: string }[],
  dest: string,
  {
    recursive,
    mode = "ask",
    preserve = false,
  }: { recursive: boolean; mode?: TargetMode; preserve?: boolean },
): Promise<void> {
  const session = await ctx.session();
  const present = new Map<string, Set<string>>();
  const files: Planned[] = [];
  for (const m of sources) {
    // With -r a source named by the user (no entry yet) is most likely a directory: its listing goes
    // out right behind the stat instead of a round trip later (listing a file gives its one entry,
    // which is then not used).
    let listing: Promise<Entry[]> | undefined;
    const entry = m.entry ?? (await statAndList(session, m.path, recursive, (l) => (listing = l)));
    const { type, size, md5, hash } = entry;
    const local = m.local ?? localTarget(dest, dest, remoteBasename(m.path));
    if (local === null) {
      files.push({ remote: m.path, local: dest, size: 0, error: unsafe(m.path) });
    } else if (type === "file" || type === "symlink") {
      files.push({ remote: m.path, local, size, md5, hash });
    } else if (type === "dir" && recursive) {
      await walkRemote(ctx, { remote: m.path, local }, dest, present, files, listing);
    } else {
      ctx.io.err(`skipping ${printable(m.path)}: ${type === "dir" ? "a directory (use -r)" : "not a file"}`);
    }
  }
  if (ctx.signal.aborted) throw new CliError("EABORTED", "interrupted");

  await localNames(
    files.map((f) => path.dirname(f.local)),
    present,
  );

  const conflicts = ctx.conflicts();
  const alg = session.server.hash;
  // The names in f's local folder, when it could be listed: a file not among them (nor its .part)
  // is new, with nothing to ask and nothing to resume.
  const isNew = (f: Planned) => {
    const names = present.get(path.dirname(f.local));
    const name = path.basename(f.local);
    return names !== undefined && !names.has(name) && !names.has(`${name}${PART_SUFFIX}`);
  };
  // Local files as big as their remote one whose hash the listing did not carry: their sums go out together.
  const likely = files.filter(
    (f) =>
      !f.error && knownHash(f, alg) === undefined && !isNew(f) && localStatOrNull(f.local)?.size === f.size,
  );
  const ask = askHashesAhead(
    session,
    likely.map((f) => f.remote),
  );
  await decideAndRun(
    ctx,
    "get",
    files,
    async (f) => {
      if (isNew(f)) return { resume: false };
      return decideGet(
        conflicts,
        mode,
        alg,
        f.local,
        { size: f.size, md5: f.md5, hash: f.hash },
        showLocal(ctx, f.local),
        ctx.signal,
        ask(f.remote),
      );
    },
    { preserve },
  );
}

export const mget: CommandSpec = {
  name: "mget",
  usage: "mget [-r] [-p] PATTERN...",
  summary: "download remote files matching globs into the local directory (-r: whole trees)",
  details:
    "Every name from the server is checked before anything is written; targets always stay inside the local directory. A local file identical to the remote one (same size and md5) is skipped as up to date.",
  args: ["remote"],
  async run(ctx, args) {
    const { flags, positionals: rest } = takeOptions(args, shortFlags("rp"));
    if (rest.length === 0) throw usage(this.usage);
    const session = await ctx.session();
    const sources = await remoteSources(ctx, session, rest);
    await downloadMany(ctx, sources, path.resolve(ctx.state.localCwd), {
      recursive: flags.has("r"),
      preserve: flags.has("p"),
    });
    return undefined;
  },
};
