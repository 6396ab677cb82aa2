import { STAGING_DIR } from "../path.js";

/**
 * How served paths map to object keys. A file `a/b.txt` is the object `PREFIX/a/b.txt`; a directory
 * `a` is the key prefix `PREFIX/a/`, which exists while any key starts with it; an empty directory
 * is kept as a zero-byte marker object named `PREFIX/a/` itself. ferryd's own objects (upload state)
 * live under `PREFIX/.ferry-staging/`, a name the sandbox refuses at every depth, so no client can
 * list, read or overwrite them.
 */
export class S3Keys {
  /** `prefix` is "" or ends in "/". */
  constructor(readonly prefix: string) {}

  /** The object of the file at `names` (never the root). */
  file(names: readonly string[]): string {
    return this.prefix + names.join("/");
  }

  /** The key prefix of the directory at `names`: "" + prefix for the root, else ending in "/". */
  dir(names: readonly string[]): string {
    return names.length === 0 ? this.prefix : `${this.prefix}${names.join("/")}/`;
  }

  /** The key under `dir(names)` named `name` (one level below), as a file. */
  child(dirPrefix: string, name: string): string {
    return dirPrefix + name;
  }

  /** The last name of `key` below `dirPrefix` (a file key, or a common prefix ending in "/"). */
  nameIn(dirPrefix: string, key: string): string {
    const rest = key.slice(dirPrefix.length);
    return rest.endsWith("/") ? rest.slice(0, -1) : rest;
  }

  /** Where ferryd keeps an upload's state between connections and servers. */
  uploadState(id: string): string {
    return `${this.prefix}${STAGING_DIR}/uploads/${id}.json`;
  }

  /** The prefix of every upload state object. */
  get uploadStates(): string {
    return `${this.prefix}${STAGING_DIR}/uploads/`;
  }

  /** True for keys that are ferryd's own (hidden from every listing). */
  isInternal(dirPrefix: string, key: string): boolean {
    return dirPrefix === this.prefix && key.startsWith(`${this.prefix}${STAGING_DIR}/`);
  }
}
