import path from "node:path";
import { usage } from "./errors.js";

/**
 * Remote paths are protocol paths: `/`-separated, absolute from the served root. A path whose `..`
 * climbs above the root is sent as typed rather than clamped to `/`, so the server refuses it with
 * EBADPATH instead of the client quietly writing somewhere the user did not name.
 */
export function resolveRemote(cwd: string, p: string): string {
  const joined = p.startsWith("/") ? p : `${cwd.endsWith("/") ? cwd : `${cwd}/`}${p === "" ? "." : p}`;
  return climbsAboveRoot(joined) ? joined : path.posix.resolve("/", joined);
}

function climbsAboveRoot(p: string): boolean {
  let depth = 0;
  for (const name of p.split("/")) {
    if (name === "..") depth -= 1;
    else if (name !== "" && name !== ".") depth += 1;
    if (depth < 0) return true;
  }
  return false;
}

export function joinRemote(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

export function remoteBasename(p: string): string {
  return path.posix.basename(p);
}

export function remoteDirname(p: string): string {
  return path.posix.dirname(p);
}

export function resolveLocal(cwd: string, p: string): string {
  if (p === "~" || p.startsWith("~/")) {
    const home = process.env.HOME ?? cwd;
    return path.resolve(home, p.slice(2));
  }
  return path.resolve(cwd, p);
}

/** True when `target` is `dir` itself or lies inside it (after normalisation). */
export function isInside(dir: string, target: string): boolean {
  const rel = path.relative(path.resolve(dir), path.resolve(target));
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/** `[user@]host[:port]`: the user is what comes before the last `@` (user names hold none). */
export function parseTarget(
  spec: string,
  defaultPort: number,
): { user: string | undefined; host: string; port: number } {
  const at = spec.lastIndexOf("@");
  const user = at === -1 ? undefined : spec.slice(0, at);
  if (user === "") throw usage(`missing user name before @ in "${spec}"`);
  return { user, ...parseHostPort(at === -1 ? spec : spec.slice(at + 1), defaultPort) };
}

/** `host`, `host:port`, `[v6]` or `[v6]:port`. */
export function parseHostPort(spec: string, defaultPort: number): { host: string; port: number } {
  let host = spec;
  let portText: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(spec);
  if (v6) {
    host = v6[1] as string;
    portText = v6[2];
  } else {
    const colon = spec.lastIndexOf(":");
    if (colon !== -1 && spec.indexOf(":") === colon) {
      host = spec.slice(0, colon);
      portText = spec.slice(colon + 1);
    }
  }
  if (host === "") throw usage(`missing host in "${spec}"`);
  const port = portText === undefined ? defaultPort : parsePort(portText);
  return { host, port };
}

export function parsePort(text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) throw usage(`invalid port "${text}"`);
  return port;
}
