import { badPath as bad, resolvePath, STAGING_DIR } from "../path.js";
import type { StoragePath } from "../storage.js";

export { STAGING_DIR };

/** A client path after the pure checks (see resolvePath): what the local tree is asked about. */
export type Resolved = StoragePath;

/** Symbolic links followed while resolving one path, as Linux's own limit (ELOOP). */
export const MAX_LINK_HOPS = 40;

/**
 * Where symbolic links of the local tree lead. Pure (no I/O): `followLink` decides from a link's
 * text alone; DirHandles walks the names on disk, one directory handle at a time. (`resolve` is
 * {@link resolvePath}, the same for every backend.)
 */
export class Sandbox {
  /** `root` must already be a real path (no symlinks), see {@link openRoot}; links are read against it. */
  constructor(readonly root: string) {}

  resolve(client: string): Resolved {
    return resolvePath(client);
  }

  /**
   * Where a symbolic link found at `dir` (names below the root, all links already followed) leads,
   * worked out from the link's text alone, so that nothing outside the root is ever opened or even
   * looked up: a link out of the root (or into the staging area) is EBADPATH whether or not its
   * target exists. `rest` are the names still to walk after the link. `..` in the link's text is
   * exact here because `dir` holds no links.
   */
  followLink(dir: readonly string[], target: string, rest: readonly string[], client: string): string[] {
    let names: string[];
    let text = target;
    if (target.startsWith("/")) {
      const prefix = this.root.endsWith("/") ? this.root : `${this.root}/`;
      if (target !== this.root && !target.startsWith(prefix)) throw bad(client, "leads outside the root");
      text = target.slice(prefix.length);
      names = [];
    } else {
      names = [...dir];
    }
    for (const name of text.split("/")) {
      if (name === "" || name === ".") continue;
      if (name === "..") {
        if (names.length === 0) throw bad(client, "leads outside the root");
        names.pop();
        continue;
      }
      names.push(name);
    }
    names.push(...rest);
    if (names.includes(STAGING_DIR)) throw bad(client, "reserved name");
    return names;
  }
}
