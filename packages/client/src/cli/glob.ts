/**
 * Shell-style globs for one path segment: `*`, `?`, `[abc]`, `[a-z]`, `[!x]`, with backslash
 * escapes (as produced by splitLine for quoted characters). Like a shell, wildcards do not match a
 * leading dot.
 */
export function hasGlob(pattern: string): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === "\\") i++;
    else if (ch === "*" || ch === "?" || ch === "[") return true;
  }
  return false;
}

/** Removes glob escapes: the literal name a pattern without wildcards stands for. */
export function unescapeGlob(pattern: string): string {
  return pattern.replace(/\\(.)/gs, "$1");
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");

export function globToRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === "\\" && i + 1 < pattern.length) {
      re += escapeRe(pattern[++i] as string);
    } else if (ch === "*") {
      re += "[^/]*";
    } else if (ch === "?") {
      re += "[^/]";
    } else if (ch === "[") {
      const close = pattern.indexOf("]", i + 2);
      if (close === -1) {
        re += "\\[";
        continue;
      }
      let body = pattern.slice(i + 1, close);
      const negate = body.startsWith("!") || body.startsWith("^");
      if (negate) body = body.slice(1);
      const cls = body.replace(/\\(.)/g, "$1").replace(/[\]\\^]/g, "\\$&");
      re += negate ? `[^/${cls}]` : `[${cls}]`;
      i = close;
    } else {
      re += escapeRe(ch);
    }
  }
  const leadingWild = pattern.startsWith("*") || pattern.startsWith("?") || pattern.startsWith("[");
  return new RegExp(`^${leadingWild ? "(?!\\.)" : ""}${re}$`, "u");
}

export interface GlobEntry {
  name: string;
  type: string;
}

/** Lists one directory; given and returning paths in the caller's notation. */
export type Lister = (dir: string) => Promise<GlobEntry[]>;

export interface GlobMatch {
  path: string;
  /** The listing entry when a wildcard matched it; literal segments are not checked here. */
  entry?: GlobEntry;
}

/**
 * Expands a `/`-separated pattern segment by segment. `join` builds child paths; `root` is the
 * path the pattern is relative to (an absolute pattern starts with `/`). Results are sorted.
 */
export async function expandGlob(
  pattern: string,
  root: string,
  list: Lister,
  join: (dir: string, name: string) => string,
): Promise<GlobMatch[]> {
  const absolute = pattern.startsWith("/");
  const segments = pattern.split("/").filter((s) => s !== "");
  let current: GlobMatch[] = [{ path: absolute ? "/" : root }];
  for (const [index, segment] of segments.entries()) {
    const last = index === segments.length - 1;
    const next: GlobMatch[] = [];
    for (const m of current) {
      if (!hasGlob(segment)) {
        next.push({ path: join(m.path, unescapeGlob(segment)) });
        continue;
      }
      if (m.entry && m.entry.type !== "dir") continue;
      let entries: GlobEntry[];
      try {
        entries = await list(m.path);
      } catch (err) {
        // A wildcard under a path that is not a directory simply matches nothing, as in a shell.
        if (current.length > 1) continue;
        throw err;
      }
      const re = globToRegExp(segment);
      for (const e of entries) {
        if (!re.test(e.name)) continue;
        if (!last && e.type !== "dir") continue;
        next.push({ path: join(m.path, e.name), entry: e });
      }
    }
    current = next.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
  return current;
}
