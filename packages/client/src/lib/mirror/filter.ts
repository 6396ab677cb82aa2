/** One --include or --exclude, in the order given. */
export interface FilterRule {
  kind: "include" | "exclude";
  /** A glob over the path relative to the tree's root; see {@link compileFilter}. */
  pattern: string;
}

/** Decides, for a path relative to the root, whether the mirror looks at it. */
export type PathFilter = (rel: string, isDir: boolean) => boolean;

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");

/**
 * A glob as a regular expression over a `/`-separated relative path. `*` and `?` stay inside one name
 * (and, unlike a shell's, match a leading dot, as rsync's do); `[abc]`, `[a-z]`, `[!x]` are classes;
 * `**` as a whole name spans any number of names, none included: `a/**` matches `a` itself and all
 * below it, and `**` then a slash then `x` matches `x` at any depth; a backslash escapes the next
 * character. A pattern without a `/`
 * matches the name at any depth (`*.log`); one with a `/` is anchored at the root (a leading `/` may
 * say so); a trailing `/` matches directories only.
 */
export function globRegExp(pattern: string): { re: RegExp; dirOnly: boolean } {
  let p = pattern;
  const dirOnly = p.length > 1 && p.endsWith("/");
  if (dirOnly) p = p.slice(0, -1);
  const anchored = p.includes("/");
  if (p.startsWith("/")) p = p.slice(1);
  let re = "";
  for (let i = 0; i < p.length; i++) {
    const ch = p[i] as string;
    if (ch === "\\" && i + 1 < p.length) {
      re += escapeRe(p[++i] as string);
    } else if (ch === "*" && p[i + 1] === "*") {
      const atStart = i === 0 || p[i - 1] === "/";
      const atEnd = i + 2 === p.length || p[i + 2] === "/";
      if (atStart && atEnd) {
        if (i + 2 === p.length) {
          // "a/**": the "/" before it is optional too, so `a` itself matches.
          if (re.endsWith("\\/")) re = `${re.slice(0, -2)}(?:/.*)?`;
          else re += ".*";
        } else {
          re += "(?:.*/)?";
          i++; // the "/" after it is part of the group
        }
      } else {
        re += ".*";
      }
      i++;
    } else if (ch === "*") {
      re += "[^/]*";
    } else if (ch === "?") {
      re += "[^/]";
    } else if (ch === "[") {
      const close = p.indexOf("]", i + 2);
      if (close === -1) {
        re += "\\[";
        continue;
      }
      let body = p.slice(i + 1, close);
      const negate = body.startsWith("!") || body.startsWith("^");
      if (negate) body = body.slice(1);
      const cls = body.replace(/\\(.)/g, "$1").replace(/[\]\\^]/g, "\\$&");
      re += negate ? `[^/${cls}]` : `[${cls}]`;
      i = close;
    } else {
      re += escapeRe(ch);
    }
  }
  return { re: new RegExp(anchored ? `^${re}$` : `(?:^|/)${re}$`, "u"), dirOnly };
}

/**
 * The filter of a list of rules, applied in order as lftp applies its --include/--exclude: a file
 * starts included, or excluded when the first rule is an include (`--include '*.txt'` alone means
 * only those); each rule that matches then includes or excludes it, so a later rule overrides an
 * earlier one (`--exclude '*.log' --include keep.log` keeps keep.log). A directory always starts
 * included, so that included files below it are found; one that ends up excluded is not looked
 * into at all. A path below an excluded directory is excluded.
 */
export function compileFilter(rules: readonly FilterRule[] = []): PathFilter {
  if (rules.length === 0) return () => true;
  const compiled = rules.map((r) => ({ include: r.kind === "include", ...globRegExp(r.pattern) }));
  const fileDefault = rules[0]?.kind !== "include";
  const decide = (rel: string, isDir: boolean): boolean => {
    let included = isDir ? true : fileDefault;
    for (const rule of compiled) {
      if (rule.dirOnly && !isDir) continue;
      if (rule.re.test(rel)) included = rule.include;
    }
    return included;
  };
  // Walks ask about every file, and each file about all its directories: remember those.
  const dirs = new Map<string, boolean>();
  const dirIncluded = (rel: string): boolean => {
    let known = dirs.get(rel);
    if (known === undefined) {
      const cut = rel.lastIndexOf("/");
      known = (cut < 0 || dirIncluded(rel.slice(0, cut))) && decide(rel, true);
      dirs.set(rel, known);
    }
    return known;
  };
  return (rel, isDir) => {
    if (isDir) return dirIncluded(rel);
    const cut = rel.lastIndexOf("/");
    return (cut < 0 || dirIncluded(rel.slice(0, cut))) && decide(rel, false);
  };
}
