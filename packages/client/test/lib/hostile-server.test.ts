import { readdir, readlink } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { encodeFrame, FrameReader } from "@ferry/protocol";
import { describe, expect, it, onTestFinished } from "vitest";
import { connect, isSafeRemoteName } from "../../src/lib/index.js";
import { MiB, rejection, tempDir, writeRandomFile } from "./helpers.js";

type Header = Record<string, unknown>;
/** Answers one request; returns frames (headers, or a header with payload bytes) to send back. */
type Script = (req: Header) => Array<Header | [Header, Buffer]>;

/**
 * A server that speaks the framing correctly but lies: it follows `script` for every request after
 * hello, so tests can check that the client never trusts what comes back.
 */
async function hostileServer(script: Script): Promise<{ host: string; port: number; tls: false }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    void (async () => {
      const reader = new FrameReader(socket);
      for (;;) {
        const frame = await reader.next();
        if (frame === null) return;
        for await (const _ of frame.payload);
        const req = frame.header;
        if (req.cmd === "data" || req.cmd === "end") continue;
        const replies =
          req.cmd === "hello"
            ? [{ ok: true, id: req.id, type: "hello", version: 1, server: "liar/1", auth: false }]
            : req.cmd === "bye"
              ? [{ ok: true, id: req.id, type: "ok" }]
              : script(req);
        for (const reply of replies) {
          if (Array.isArray(reply)) {
            socket.write(encodeFrame(reply[0]));
            socket.write(reply[1]);
          } else {
            socket.write(encodeFrame(reply));
          }
        }
      }
    })().catch(() => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onTestFinished(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  // It speaks plain TCP; the tests connect with tls: false.
  return { host: "127.0.0.1", port: address.port, tls: false as const };
}

const MD5_OF_HELLO = "5d41402abc4b2a76b9719d911017c592";

describe("a lying server", () => {
  it("a data frame bigger than the file reply announced is EPROTO, nothing written", async () => {
    const liar = await hostileServer((req) => [
      { ok: true, id: req.id, type: "file", size: 5, mtime: 0, offset: 0, md5: MD5_OF_HELLO },
      [{ cmd: "data", id: req.id, offset: 0, size: 6 }, Buffer.from("hello!")],
    ]);
    const dir = await tempDir();
    const s = await connect(liar);
    expect((await rejection(s.get("a", join(dir, "a")))).code).toBe("EPROTO");
    expect(s.closed).toBe(true);
    expect(await readdir(dir)).toEqual([]);
  });

  it("an offset other than 0 or the one asked for is EPROTO", async () => {
    const liar = await hostileServer((req) => [
      { ok: true, id: req.id, type: "file", size: 5, mtime: 0, offset: 2, md5: MD5_OF_HELLO },
      [{ cmd: "data", id: req.id, offset: 2, size: 3 }, Buffer.from("llo")],
    ]);
    const dir = await tempDir();
    const s = await connect(liar);
    expect((await rejection(s.get("a", join(dir, "a")))).code).toBe("EPROTO");
  });

  it("a get whose bytes do not match the announced md5 is ECHECKSUM", async () => {
    const liar = await hostileServer((req) => [
      { ok: true, id: req.id, type: "file", size: 5, mtime: 0, offset: 0 },
      [{ cmd: "data", id: req.id, offset: 0, size: 5 }, Buffer.from("hellO")],
      { cmd: "end", id: req.id, md5: MD5_OF_HELLO },
    ]);
    const dir = await tempDir();
    const s = await connect(liar);
    const err = await rejection(s.get("a", join(dir, "a")));
    expect(err.code).toBe("ECHECKSUM");
    expect(err.details).toMatchObject({ expected: MD5_OF_HELLO });
    expect(await readdir(dir)).toEqual([]);
    // Checksum failures are the data's fault, not the stream's: the session goes on.
    expect(s.closed).toBe(false);
  });

  it("a put the server claims to have stored with another md5 is ECHECKSUM", async () => {
    const liar = await hostileServer((req) => [
      { ok: true, id: req.id, type: "done", size: 5, md5: "00000000000000000000000000000000" },
    ]);
    const dir = await tempDir();
    const { writeFile } = await import("node:fs/promises");
    await writeFile(join(dir, "a"), "hello");
    const s = await connect(liar);
    const err = await rejection(s.put(join(dir, "a"), "a"));
    expect(err.code).toBe("ECHECKSUM");
    expect(err.details).toMatchObject({ expected: MD5_OF_HELLO, actual: "00000000000000000000000000000000" });
  });

  it("a put the server fails right after ready is not sent in full when much is left", async () => {
    const liar = await hostileServer((req) =>
      req.cmd === "put"
        ? [
            { ok: true, id: req.id, type: "ready", offset: 0 },
            { ok: false, id: req.id, code: "ENOSPC", message: "disk full" },
          ]
        : [{ ok: true, id: req.id, type: "ok" }],
    );
    const dir = await tempDir();
    const local = join(dir, "big.bin");
    await writeRandomFile(local, 80 * MiB);
    const s = await connect(liar);
    const err = await rejection(s.put(local, "big.bin"));
    expect(err.code).toBe("ENOSPC");
    // Sending the whole 80 MiB would have kept the session open; dropping it is the sign it stopped.
    expect(s.closed).toBe(true);
  });

  it("a reply for another request id is EPROTO and breaks the session", async () => {
    const liar = await hostileServer((req) => [{ ok: true, id: Number(req.id) + 7, type: "ok" }]);
    const s = await connect(liar);
    expect((await rejection(s.mkdir("x"))).code).toBe("EPROTO");
    expect(s.closed).toBe(true);
  });

  it("a malformed reply is EPROTO", async () => {
    const liar = await hostileServer((req) => [
      { ok: true, id: req.id, type: "entry", entry: { name: "", type: "file", size: -1, mtime: 0 } },
    ]);
    const s = await connect(liar);
    expect((await rejection(s.stat("x"))).code).toBe("EPROTO");
  });

  it("listing names are returned as sent, and flagged unsafe", async () => {
    const names = ["..", "../../etc/passwd", "a/b", "ok.txt", "\x1b[31mred"];
    const liar = await hostileServer((req) => [
      {
        ok: true,
        id: req.id,
        type: "entries",
        more: false,
        entries: names.map((name) => ({ name, type: "file", size: 1, mtime: 0 })),
      },
    ]);
    const s = await connect(liar);
    const entries = await s.list("/");
    expect(entries.map((e) => e.name)).toEqual(names);
    expect(entries.map((e) => isSafeRemoteName(e.name))).toEqual([false, false, false, true, false]);
  });

  it("EVERSION for a server speaking another version", async () => {
    const sockets: Socket[] = [];
    const server = createServer((socket) => {
      sockets.push(socket);
      socket.write(
        encodeFrame({ ok: true, id: 0, type: "hello", version: 2, server: "future/2", auth: false }),
      );
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    onTestFinished(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    });
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    expect((await rejection(connect({ host: "127.0.0.1", port, tls: false }))).code).toBe("EVERSION");
  });
});

/** The open descriptors of this process that point at `path` (Linux: /proc/self/fd). */
async function openDescriptorsOf(path: string): Promise<string[]> {
  const fds = await readdir("/proc/self/fd");
  const targets = await Promise.all(fds.map((fd) => readlink(join("/proc/self/fd", fd)).catch(() => "")));
  return targets.filter((t) => t === path);
}

describe("a server that goes quiet after the file reply", () => {
  it("an abort then rejects the get only once its .part is closed, not leaving it to the garbage collector", async () => {
    const server = await hostileServer((req) =>
      req.cmd === "get" ? [{ ok: true, id: req.id, type: "file", size: 8 * MiB, mtime: 0, offset: 0 }] : [],
    );
    const s = await connect(server);
    const target = join(await tempDir(), "f.bin");
    const part = `${target}.part`;
    const controller = new AbortController();
    const pending = s.get("f.bin", target, { signal: controller.signal });
    // The file reply opened the .part; no data frame follows, so the get is between frames.
    while ((await openDescriptorsOf(part)).length === 0) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    expect((await rejection(pending)).code).toBe("EABORTED");
    expect(await openDescriptorsOf(part)).toEqual([]);
  });
});
