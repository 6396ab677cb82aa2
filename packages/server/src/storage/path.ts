import { FerryError, MAX_NAME_BYTES, MAX_PATH_BYTES } from "@ferry/protocol";
import type { StoragePath } from "./storage.js";

/**
 * The hidden folder at the root that holds uploads in progress. Clients can never name it, at any
 * depth: a user's root may lie inside another's (an admin above the users' roots), and the outer
 * user must not reach the inner one's staging through it. Every backend may keep its own state
 * under this name.
 */
export const STAGING_DIR = ".ferry-staging";

// In unicode mode this matches only lone surrogates, which have no UTF-8 form.
const LONE_SURROGATE = /\p{Cs}/u;

export function badPath(client: string, why: string): FerryError {
  return new FerryError("EBADPATH", `path not allowed (${why}): ${JSON.stringify(client)}`);
}

/**
 * The only road from a client's path to a {@link StoragePath}. Pure (no I/O, the same for every
 * backend): it rejects everything PROTOCOL.md §7 lists before any storage sees the path.
 */
export function resolvePath(client: string): StoragePath {
  if (typeof client !== "string" || client.length === 0) throw badPath(String(client), "empty");
  if (client.includes("\0")) throw badPath(client, "NUL byte");
  if (client.includes("\\")) throw badPath(client, "backslash");
  if (LONE_SURROGATE.test(client)) throw badPath(client, "invalid UTF-8");
  if (Buffer.byteLength(client, "utf8") > MAX_PATH_BYTES)
    throw badPath(client, `over ${MAX_PATH_BYTES} bytes`);
  // A leading "/" is the root and one trailing "/" is harmless ("docs/"); any other empty name is not.
  let body = client.startsWith("/") ? client.slice(1) : client;
  const dirOnly = body.length > 1 && body.endsWith("/");
  if (dirOnly) body = body.slice(0, -1);
  const names: string[] = [];
  if (body.length > 0) {
    for (const name of body.split("/")) {
      if (name === "") throw badPath(client, "empty name");
      if (Buffer.byteLength(name, "utf8") > MAX_NAME_BYTES)
        throw badPath(client, `name over ${MAX_NAME_BYTES} bytes`);
      if (name === ".") continue;
      if (name === "..") {
        if (names.length === 0) throw badPath(client, "leaves the root");
        names.pop();
        continue;
      }
      names.push(name);
    }
  }
  if (names.includes(STAGING_DIR)) throw badPath(client, "reserved name");
  return { client, names, rel: names.join("/"), isRoot: names.length === 0, dirOnly };
}

/**
 * What a put may name, from the path's shape alone: not the root, not a path ending in `/` (EISDIR).
 * Checked first of all of put's checks (PROTOCOL.md §4), so before the server's size limit too.
 */
export function assertFileTarget(p: StoragePath): void {
  if (p.isRoot) throw new FerryError("EISDIR", "the root is a directory");
  if (p.dirOnly) {
    throw new FerryError("EISDIR", `a path ending in / names a directory: ${JSON.stringify(p.client)}`);
  }
}
