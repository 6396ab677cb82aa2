import { realpath } from "node:fs/promises";
import path from "node:path";
import { FerryError, MAX_NAME_BYTES, MAX_PATH_BYTES } from "@ferry/protocol";

/** The hidden folder at the root that holds uploads in progress; clients can never name it. */
export const STAGING_DIR = ".ferry-staging";

/** A client path after the pure checks: where it points inside the root. */
export interface Resolved {
  /** The path as the client sent it, for messages and logs. */
  readonly client: string;
  /** Normalized names below the root; empty for the root itself. */
  readonly names: readonly string[];
  /** `names` joined with `/`; "" for the root. */
  readonly rel: string;
  /** Absolute path on disk. */
  readonly abs: string;
  readonly isRoot: boolean;
}

// In unicode mode this matches only lone surrogates, which have no UTF-8 form.
const LONE_SURROGATE = /\p{Cs}/u;

function bad(client: string, why: string): FerryError {
  return new FerryError("EBADPATH", `path not allowed (${why}): ${JSON.stringify(client)}`);
}

/**
 * The only road from a client's path to the disk. `resolve` is pure (no I/O) and rejects everything
 * PROTOCOL.md §7 lists; the async checks then make sure symlinks inside the root do not lead out of it.
 */
export class Sandbox {
  /** `root` must already be a real path (no symlinks), see {@link openRoot}. */
  constructor(readonly root: string) {}

  resolve(client: string): Resolved {
    if (typeof client !== "string" || client.length === 0) throw bad(String(client), "empty");
    if (client.includes("\0")) throw bad(client, "NUL byte");
    if (client.includes("\\")) throw bad(client, "backslash");
    if (LONE_SURROGATE.test(client)) throw bad(client, "invalid UTF-8");
    if (Buffer.byteLength(client, "utf8") > MAX_PATH_BYTES) throw bad(client, `over ${MAX_PATH_BYTES} bytes`);
    // A leading "/" is the root and one trailing "/" is harmless ("docs/"); any other empty name is not.
    let body = client.startsWith("/") ? client.slice(1) : client;
    if (body.length > 1 && body.endsWith("/")) body = body.slice(0, -1);
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
    if (names[0] === STAGING_DIR) throw bad(client, "reserved name");
    const rel = names.join("/");
    return {
      client,
      names,
      rel,
      abs: rel ? path.join(this.root, rel) : this.root,
      isRoot: names.length === 0,
    };
  }

  /** True when a real (symlink-free) path is the root or below it, and not in the staging area. */
  contains(real: string): boolean {
    if (real === this.root) return true;
    const prefix = this.root.endsWith(path.sep) ? this.root : this.root + path.sep;
    if (!real.startsWith(prefix)) return false;
    const first = real.slice(prefix.length).split(path.sep)[0];
    return first !== STAGING_DIR;
  }

  /**
   * The real path of `abs`, which must exist and stay inside the root (following any symlinks).
   * A link leading out of the root is EBADPATH, exactly as if the client had typed `..`.
   */
  async realInside(abs: string, client: string): Promise<string> {
    const real = await realpath(abs);
    if (!this.contains(real)) throw bad(client, "resolves outside the root");
    return real;
  }

  /**
   * Checks the directory that holds `r` (following symlinks) stays inside the root, and returns the
   * absolute path of `r` with its parent replaced by that real directory, so that the final name is
   * acted on itself (a symlink there is replaced or removed, never followed).
   */
  async inRealParent(r: Resolved): Promise<string> {
    if (r.isRoot) return this.root;
    const parent = await this.realInside(path.dirname(r.abs), r.client);
    const name = r.names[r.names.length - 1] as string;
    if (parent === this.root && name === STAGING_DIR) throw bad(r.client, "reserved name");
    return path.join(parent, name);
  }
}
