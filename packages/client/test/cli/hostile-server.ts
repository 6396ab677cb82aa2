import { createHash } from "node:crypto";
import net from "node:net";
import { encodeFrame, FrameReader } from "@ferry/protocol";
import { onTestFinished } from "vitest";

export interface FakeEntry {
  name: string;
  type: "file" | "dir";
  content?: string;
}

/**
 * A server that speaks the protocol correctly but lies in its listings: names with `/`, `..` or
 * terminal escapes, as a malicious ferryd could send (CVE-2019-6111 / CVE-2019-6109 for scp).
 * `tree` maps a directory path to its entries; files are served from `content`.
 */
export async function hostileServer(tree: Record<string, FakeEntry[]>): Promise<number> {
  const find = (path: string): FakeEntry | undefined => {
    const slash = path.lastIndexOf("/");
    const dir = slash <= 0 ? "/" : path.slice(0, slash);
    return tree[dir]?.find((e) => e.name === path.slice(slash + 1));
  };
  const server = net.createServer(async (socket) => {
    socket.on("error", () => {});
    const reader = new FrameReader(socket);
    const send = (h: object): boolean => socket.write(encodeFrame(h));
    try {
      for (let frame = await reader.next(); frame; frame = await reader.next()) {
        const h = frame.header as { cmd: string; id: number; path?: string };
        const path = h.path === undefined ? "/" : `/${h.path.replace(/^\/+/, "")}`.replace(/\/$/, "") || "/";
        if (h.cmd === "hello") {
          send({ ok: true, id: h.id, type: "hello", version: 1, server: "evil/1", auth: false });
        } else if (h.cmd === "list" && tree[path]) {
          const entries = (tree[path] ?? []).map((e) => ({
            name: e.name,
            type: e.type,
            size: e.content?.length ?? 0,
            mtime: 0,
          }));
          send({ ok: true, id: h.id, type: "entries", more: false, entries });
        } else if (h.cmd === "stat" && (tree[path] || find(path))) {
          const e = find(path);
          const entry = {
            name: e?.name ?? "d",
            type: e?.type ?? "dir",
            size: e?.content?.length ?? 0,
            mtime: 0,
          };
          send({ ok: true, id: h.id, type: "entry", entry });
        } else if (h.cmd === "get" && find(path)?.content !== undefined) {
          const body = Buffer.from(find(path)?.content ?? "");
          const md5 = createHash("md5").update(body).digest("hex");
          send({ ok: true, id: h.id, type: "file", size: body.length, mtime: 0, offset: 0, md5 });
          send({ cmd: "data", id: h.id, offset: 0, size: body.length });
          socket.write(body);
        } else if (h.cmd === "bye") {
          send({ ok: true, id: h.id, type: "ok" });
          socket.end();
        } else {
          send({ ok: false, id: h.id, code: "ENOENT", message: `no such file or directory: ${path}` });
        }
      }
    } catch {
      socket.destroy();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as net.AddressInfo).port;
}
