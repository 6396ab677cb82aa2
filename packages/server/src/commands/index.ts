import type { Request } from "@ferry/protocol";
import type { SessionIO } from "../context.js";
import { del } from "./delete.js";
import { get } from "./get.js";
import { list } from "./list.js";
import { mkdir } from "./mkdir.js";
import { put } from "./put.js";
import { rename } from "./rename.js";
import { stat } from "./stat.js";
import { sum } from "./sum.js";

/** Runs one request of a ready session; hello and auth are the session's own business. */
export async function dispatch(
  msg: Exclude<Request, { cmd: "hello" | "auth" }>,
  io: SessionIO,
): Promise<void> {
  switch (msg.cmd) {
    case "put":
      return put(msg, io);
    case "get":
      return get(msg, io);
    case "list":
      return list(msg, io);
    case "stat":
      return stat(msg, io);
    case "sum":
      return sum(msg, io);
    case "mkdir":
      return mkdir(msg, io);
    case "delete":
      return del(msg, io);
    case "rename":
      return rename(msg, io);
    case "bye":
      return io.send({ ok: true, id: msg.id, type: "ok" });
  }
}
