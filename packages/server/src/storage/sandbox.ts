import { FerryError, MAX_NAME_BYTES, MAX_PATH_BYTES } from "@ferry/protocol";

/**
 * The hidden folder at the root that holds uploads in progress. Clients can never name it, at any
 * depth: a user's root may lie inside another's (an admin above the users' roots), and the outer
 * user must not reach the inner one's staging through it.
 */
export const STAGING_DIR = ".ferry-staging";

/** A client path after the pure checks: where it points inside the root. */
export interface Resolved {
  /** The path as the client sent it, for messages and logs. */
  readonly client: string;
  /** Normalized names below the root; empty for the root itself. */
  readonly names: readonly string[];
  /** `names` joined with `/`; "" for the root. */
  readonly rel: string;
  readonly isRoot: boolean;
  /** The client's path ended in "/": it must name a directory (POSIX: `file/` is ENOTDIR). */
  readonly dirOnly: boolean;
}

/** Symbolic links followed while resolving one path, as Linux's own limit (ELOOP). */
export const MAX_LINK_HOPS = 40;

// In unicode mode this matches only lone surrogates, which have no UTF-8 form.
const LONE_SURROGATE = /\p{Cs}/u;

function bad(client: string, why: string): FerryError {
  return new FerryError("EBADPATH", `path not allowed (${why}): ${JSON.stringify(client)}`);
}

/**
 * The only road from a client's path to names below the root. Pure (no I/O): `resolve` rejects
 * everything PROTOCOL.md §7 lists, and `followLink` decides where a link met on the way leads.
 * DirHandles walks those names on disk, one directory handle at a time.
 */
export class Sandbox {
  /** `root` must already be a real path (no symlinks), see {@link openRoot}; links are read against it. */
  constructor(readonly root: string) {}

  resolve(client: string): Resolved {
    if (typeof client !== "string" || client.length === 0) throw bad(String(client), "empty");
    if (client.includes("\0")) throw bad(client, "NUL byte");
    if (client.includes("\\")) throw bad(client, "backslash");
    if (LONE_SURROGATE.test(client)) throw bad(client, "invalid UTF-8");
    if (Buffer.byteLength(client, "utf8") > MAX_PATH_BYTES) throw bad(client, `over ${MAX_PATH_BYTES} bytes`);
    // A leading "/" is the root and one trailing "/" is harmless ("docs/"); any other empty name is not.
    let body = client.startsWith("/") ? client.slice(1) : client;
    const dirOnly = body.length > 1 && body.endsWith("/");
    if (dirOnly) body = body.slice(0, -1);
    const names: string[] = [];
    if (body.length > 0) {
      for (const name of body.split("/")) {
        if (name === "") throw bad(client, "empty name");
        if (Buffer.byteLength(name, "utf8") > MAX_NAME_BYTES)
          throw bad(client, `name over ${MAX_NAME_BYTES} bytes`);
        if (name === ".") continue;
        if (name === "..") {
          if (names.length === 0) throw bad(client, "leaves the root");
          names.pop();
          continue;
        }
        names.push(name);
      }
    }
    if (names.includes(STAGING_DIR)) throw bad(client, "reserved name");
    const rel = names.join("/");
    return {
      client,
      names,
      rel,
      isRoot: names.length === 0,
      dirOnly,
    };
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
