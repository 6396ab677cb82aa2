import { compileFilter, type FilterRule } from "./filter.js";

/** One entry of a tree, keyed by its `/`-separated path relative to the tree's root. */
export interface TreeEntry {
  /** `link` and `other` (a FIFO, a socket, a device) are only ever targets: a source skips them. */
  type: "file" | "dir" | "link" | "other";
  size: number;
  /** Milliseconds since the epoch, whole (as the protocol carries them). */
  mtime: number;
  /** When known: from a listing, a `sum`, or hashing a local file. */
  /** The file's hash in the session's alg (md5 unless ConnectOptions.hash says otherwise). */
  hash?: string;
}

/** A whole tree: relative path → entry. The root itself is not in it. */
export type Tree = ReadonlyMap<string, TreeEntry>;

export interface PlanOptions {
  /** Delete what the target has and the source does not (excluded paths are never deleted). */
  delete?: boolean;
  /** --include / --exclude in the order given; see compileFilter. */
  filters?: readonly FilterRule[];
  /** Transfer a file that both have only when the source's is newer. */
  onlyNewer?: boolean;
  /**
   * Compare files of equal size by md5 rather than mtime (both sides' md5 must be filled in first;
   * see checksumsNeeded). A file whose md5 is unknown on either side is transferred.
   */
  checksum?: boolean;
  /**
   * The suffix under which the target keeps partial transfers (`.part` for downloads): `NAME.part`
   * beside a source file `NAME` is the partial its transfer resumes from, neither extra nor deleted.
   */
  partialSuffix?: string;
}

export type TransferReason = "new" | "size" | "mtime" | "newer" | "checksum" | "hash unknown";

export interface PlannedTransfer {
  path: string;
  size: number;
  mtime: number;
  reason: TransferReason;
  /** The target has a file there already, which the transfer replaces. */
  replaces: boolean;
}

export interface PlannedDelete {
  path: string;
  type: TreeEntry["type"];
}

export interface Conflict {
  path: string;
  source: TreeEntry["type"];
  target: TreeEntry["type"];
}

/** What a mirror will do, in the order it does it. */
export interface MirrorPlan {
  /** Directories to create, parents first. */
  mkdirs: string[];
  transfers: PlannedTransfer[];
  /** Only with `delete`: children before their directories. Done after every transfer succeeded. */
  deletes: PlannedDelete[];
  /** A directory on one side where the other has a file or a link: left alone, with a note. */
  conflicts: Conflict[];
  /** Files both have that --only-newer leaves: the target's is as new or newer. */
  notNewer: string[];
  /** Files (not directories) both have alike. */
  unchanged: number;
  /** Source and target paths that the filters leave out. */
  excluded: number;
  /** Bytes of all planned transfers. */
  bytes: number;
}

const byPath = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));
const depth = (p: string): number => p.split("/").length;
const parentOf = (p: string): string | null => {
  const cut = p.lastIndexOf("/");
  return cut < 0 ? null : p.slice(0, cut);
};

/** True when `path` is `dir` or below it. */
function within(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

/**
 * Compares two trees and says what makes the target like the source: pure, no I/O. Files differ
 * by size or mtime (whole milliseconds), or with `checksum` by size or md5; `onlyNewer` transfers a
 * file both have only when the source's mtime is later. New directories are created, parents first.
 * With `delete`, what the target has beyond the source goes, deepest first, except what the filters
 * exclude and the directories that hold it.
 */
export function planMirror(source: Tree, target: Tree, options: PlanOptions = {}): MirrorPlan {
  const included = compileFilter(options.filters);
  const plan: MirrorPlan = {
    mkdirs: [],
    transfers: [],
    deletes: [],
    conflicts: [],
    notNewer: [],
    unchanged: 0,
    excluded: 0,
    bytes: 0,
  };
  // Subtrees the plan leaves alone: below a conflict nothing is compared, created or deleted.
  const blocked: string[] = [];
  const isBlocked = (p: string) => blocked.some((b) => within(p, b));

  for (const path of [...source.keys()].sort(byPath)) {
    const s = source.get(path) as TreeEntry;
    if (s.type !== "file" && s.type !== "dir") continue;
    if (!included(path, s.type === "dir")) {
      plan.excluded++;
      continue;
    }
    if (isBlocked(path)) continue;
    const t = target.get(path);
    if (s.type === "dir") {
      if (t === undefined) plan.mkdirs.push(path);
      else if (t.type !== "dir") {
        plan.conflicts.push({ path, source: s.type, target: t.type });
        blocked.push(path);
      }
      continue;
    }
    if (t !== undefined && t.type !== "file") {
      plan.conflicts.push({ path, source: s.type, target: t.type });
      if (t.type === "dir") blocked.push(path);
      continue;
    }
    const reason = t === undefined ? "new" : differs(s, t, options);
    if (reason === null) {
      plan.unchanged++;
      continue;
    }
    if (reason === "not newer") {
      plan.notNewer.push(path);
      continue;
    }
    plan.transfers.push({ path, size: s.size, mtime: s.mtime, reason, replaces: t !== undefined });
    plan.bytes += s.size;
  }

  if (options.delete) plan.deletes = deletions(source, target, included, options, isBlocked, plan);
  else {
    for (const [path, t] of target)
      if (!source.has(path) && !included(path, t.type === "dir")) plan.excluded++;
  }
  return plan;
}

function differs(s: TreeEntry, t: TreeEntry, options: PlanOptions): TransferReason | "not newer" | null {
  if (options.onlyNewer) {
    const same = s.size === t.size && (options.checksum ? s.hash === t.hash : s.mtime === t.mtime);
    if (same && (!options.checksum || s.hash !== undefined)) return null;
    return s.mtime > t.mtime ? "newer" : "not newer";
  }
  if (s.size !== t.size) return "size";
  if (options.checksum) {
    if (s.hash === undefined || t.hash === undefined) return "hash unknown";
    return s.hash === t.hash ? null : "checksum";
  }
  return s.mtime === t.mtime ? null : "mtime";
}

function deletions(
  source: Tree,
  target: Tree,
  included: (rel: string, isDir: boolean) => boolean,
  options: PlanOptions,
  isBlocked: (p: string) => boolean,
  plan: MirrorPlan,
): PlannedDelete[] {
  const suffix = options.partialSuffix;
  // Directories that must stay because something in them stays: an excluded entry, or a partial.
  const kept = new Set<string>();
  const keep = (p: string) => {
    for (let d = parentOf(p); d !== null && !kept.has(d); d = parentOf(d)) kept.add(d);
  };
  const out: PlannedDelete[] = [];
  for (const [path, t] of target) {
    if (source.has(path) || isBlocked(path)) continue;
    if (!included(path, t.type === "dir")) {
      plan.excluded++;
      keep(path);
      continue;
    }
    if (suffix && path.endsWith(suffix) && source.get(path.slice(0, -suffix.length))?.type === "file") {
      keep(path);
      continue;
    }
    out.push({ path, type: t.type });
  }
  return out
    .filter((d) => !(d.type === "dir" && kept.has(d.path)))
    .sort((a, b) => depth(b.path) - depth(a.path) || byPath(a.path, b.path));
}

/**
 * The files whose md5 a --checksum plan needs and a side does not know yet: both sides have a file
 * there, of the same size (a different size is a difference already). The runner fills these in
 * (a `sum` per remote file, hashing per local file) before it plans.
 */
export function checksumsNeeded(
  source: Tree,
  target: Tree,
  filters?: readonly FilterRule[],
): { source: string[]; target: string[] } {
  const included = compileFilter(filters);
  const need = { source: [] as string[], target: [] as string[] };
  for (const [path, s] of source) {
    const t = target.get(path);
    if (s.type !== "file" || t?.type !== "file" || s.size !== t.size || !included(path, false)) continue;
    if (s.hash === undefined) need.source.push(path);
    if (t.hash === undefined) need.target.push(path);
  }
  return need;
}
