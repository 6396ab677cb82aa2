import { FerryError, type Request } from "@ferry/protocol";
import type { SessionIO } from "../context.js";
import { del } from "./delete.js";
import { df } from "./df.js";
import { get } from "./get.js";
import { list } from "./list.js";
import { mkdir } from "./mkdir.js";
import { put } from "./put/index.js";
import { rename } from "./rename.js";
import { stat } from "./stat.js";
import { sum } from "./sum.js";

/** A request of a ready session; hello and auth are the session's own business. */
export type SessionRequest = Exclude<Request, { cmd: "hello" | "auth" }>;

interface Verb<C extends SessionRequest["cmd"]> {
  readonly run: (msg: Extract<SessionRequest, { cmd: C }>, io: SessionIO) => Promise<void>;
  /** Changes the tree: refused for a read-only session (OpenSSH sftp-server's `does_write`). */
  readonly writes: boolean;
}

/** Every verb of a ready session, and whether it writes. */
export const VERBS: { readonly [C in SessionRequest["cmd"]]: Verb<C> } = {
  put: { run: put, writes: true },
  get: { run: get, writes: false },
  list: { run: list, writes: false },
  stat: { run: stat, writes: false },
  sum: { run: sum, writes: false },
  mkdir: { run: mkdir, writes: true },
  delete: { run: del, writes: true },
  rename: { run: rename, writes: true },
  df: { run: df, writes: false },
  bye: { run: (msg, io) => io.send({ ok: true, id: msg.id, type: "ok" }), writes: false },
};

/**
 * Why this session may not run `msg` at all, or null. The session asks before a request takes
 * either road (the pipeline or {@link dispatch}), so this is the one place that knows read-only, and
 * the one that refuses a hash algorithm the store does not offer (EALG, never a silent md5).
 */
export function refusal(msg: SessionRequest, io: SessionIO): FerryError | null {
  const alg = "alg" in msg ? msg.alg : undefined;
  if (alg !== undefined && !io.storage.hashes.includes(alg)) {
    return new FerryError(
      "EALG",
      `${msg.cmd}: hash algorithm ${alg} is not offered by this server (${io.storage.hashes.join(", ")})`,
      { alg },
    );
  }
  if (!VERBS[msg.cmd].writes || !io.access.readOnly) return null;
  const who = io.access.user === null ? "the server is read-only" : `user ${io.access.user} is read-only`;
  return new FerryError("EACCES", `${msg.cmd}: ${who}`);
}

/** Runs one request of a ready session, after {@link refusal} let it through. */
export function dispatch(msg: SessionRequest, io: SessionIO): Promise<void> {
  const verb = VERBS[msg.cmd] as Verb<typeof msg.cmd>;
  return (verb.run as (m: SessionRequest, io: SessionIO) => Promise<void>)(msg, io);
}
