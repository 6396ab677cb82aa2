import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { encodeFrame, type Frame, FrameReader } from "@ferry/protocol";
import { runFerry, tempDirForTest } from "@ferry/test-fixtures";
import { describe, expect, it, onTestFinished } from "vitest";

/** How long the server below holds an answer back to see whether the client sends on without it. */
const HOLD_MS = 2_000;

/**
 * A plain-TCP server for one tree (`/d` holding `a.txt` and `sub/b.txt`) that notes, in order, what
 * it receives and when it answers. It holds answers back, each for at most HOLD_MS: hello's, a
 * stat's and that of a listing it has not (ENOENT) until the client's next frame comes (a client that sends its next request
 * only after the answer shows it by the order of events), and bye's until the client ends the
 * connection. mkdir answers ok; every other path it does not hold is ENOENT.
 */
async function recordingServer(): Promise<{ port: number; events: string[] }> {
  const events: string[] = [];
  const tree: Record<string, { name: string; type: "file" | "dir"; content?: string }[]> = {
    "/d": [
      { name: "a.txt", type: "file", content: "alpha" },
      { name: "sub", type: "dir" },
    ],
    "/d/sub": [{ name: "b.txt", type: "file", content: "beta" }],
  };
  const content = (p: string): string | undefined => {
    const dir = p.slice(0, p.lastIndexOf("/"));
    return tree[dir]?.find((e) => `${dir}/${e.name}` === p)?.content;
  };
  const server = net.createServer(async (socket) => {
    socket.on("error", () => {});
    const reader = new FrameReader(socket);
    const send = (what: string, h: object) => {
      events.push(`send ${what}`);
      socket.write(encodeFrame(h));
    };
    // One read at a time: a read that lost the race below is the next one awaited.
    let pending: Promise<Frame | null> | null = null;
    const next = (): Promise<Frame | null> => {
      const r = pending ?? reader.next();
      pending = null;
      return r;
    };
    const nextOrNothing = async (): Promise<Frame | null | "nothing"> => {
      pending ??= reader.next();
      const won = await Promise.race([pending, sleep(HOLD_MS).then(() => "nothing" as const)]);
      return won === "nothing" ? won : next();
    };
    let held: (() => void) | null = null;
    try {
      let frame: Frame | null | "nothing" = await next();
      while (frame !== null) {
        if (frame === "nothing") {
          held?.();
          held = null;
          frame = await next();
          continue;
        }
        const h = frame.header as { cmd: string; id: number; path?: string };
        const p = `/${(h.path ?? "").replace(/^\/+/, "")}`;
        events.push(`recv ${h.cmd}`);
        held?.();
        held = null;
        if (h.cmd === "hello") {
          held = () =>
            send("hello", { ok: true, id: h.id, type: "hello", version: 1, server: "rec/1", auth: false });
          frame = await nextOrNothing();
          continue;
        } else if (h.cmd === "mkdir") {
          send("mkdir", { ok: true, id: h.id, type: "ok" });
        } else if (h.cmd === "stat") {
          const entry = { name: path.posix.basename(p), type: "dir", size: 0, mtime: 0 };
          held = () => send("stat", { ok: true, id: h.id, type: "entry", entry });
          frame = await nextOrNothing();
          continue;
        } else if (h.cmd === "list") {
          const entries = (tree[p] ?? []).map((e) => ({
            name: e.name,
            type: e.type,
            size: e.content?.length ?? 0,
            mtime: 0,
          }));
          if (tree[p]) {
            send("list", { ok: true, id: h.id, type: "entries", more: false, entries });
            frame = await next();
            continue;
          }
          held = () =>
            send("list", { ok: false, id: h.id, code: "ENOENT", message: `no such directory: ${p}` });
          frame = await nextOrNothing();
          continue;
        } else if (h.cmd === "get" && tree[p]) {
          send("error", { ok: false, id: h.id, code: "EISDIR", message: `a directory: ${p}` });
        } else if (h.cmd === "get" && content(p) !== undefined) {
          const body = Buffer.from(content(p) ?? "");
          const md5 = createHash("md5").update(body).digest("hex");
          send("get", { ok: true, id: h.id, type: "file", size: body.length, mtime: 0, offset: 0, md5 });
          socket.write(encodeFrame({ cmd: "data", id: h.id, offset: 0, size: body.length }));
          socket.write(body);
        } else if (h.cmd === "put") {
          const put = h as unknown as { size: number; md5?: string };
          const data = await next();
          const chunks: Buffer[] = [];
          for await (const chunk of data?.payload ?? []) chunks.push(Buffer.from(chunk));
          if (put.md5 === undefined) await next();
          const md5 = createHash("md5").update(Buffer.concat(chunks)).digest("hex");
          send("put", { ok: true, id: h.id, type: "done", size: put.size, md5 });
        } else if (h.cmd === "bye") {
          const after = await nextOrNothing();
          if (after === null) events.push("client ended");
          send("bye", { ok: true, id: h.id, type: "ok" });
          socket.end();
          break;
        } else {
          send("error", { ok: false, id: h.id, code: "ENOENT", message: `no such file: ${p}` });
        }
        frame = await next();
      }
    } catch {
      socket.destroy();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as net.AddressInfo).port, events };
}

async function mgetFrom(port: number): Promise<string> {
  const dest = await tempDirForTest("ferry-round-trips-");
  const r = await runFerry(["--no-tls", "--no-progress", `127.0.0.1:${port}`, "-c", "mget -r d"], {
    cwd: dest,
    timeoutMs: 30_000,
  });
  expect(r.stderr).not.toMatch(/ferry: mget/);
  expect(r.code).toBe(0);
  expect(await readFile(path.join(dest, "d", "a.txt"), "utf8")).toBe("alpha");
  expect(await readFile(path.join(dest, "d", "sub", "b.txt"), "utf8")).toBe("beta");
  return dest;
}

describe("round trips the CLI does not wait for", () => {
  it("mget -r sends the listing of the directory it names right behind its stat", async () => {
    const { port, events } = await recordingServer();
    await mgetFrom(port);
    // The stat and the listing go out behind the hello, before its answer (an early session).
    expect(events.slice(0, 5)).toEqual(["recv hello", "recv stat", "send hello", "recv list", "send stat"]);
  });

  it("the last command's process ends the connection after bye without waiting for the answer", async () => {
    const { port, events } = await recordingServer();
    await mgetFrom(port);
    expect(events.slice(-3)).toEqual(["recv bye", "client ended", "send bye"]);
  });

  it("get of a file not there locally sends the get at once, without a stat first", async () => {
    const { port, events } = await recordingServer();
    const dest = await tempDirForTest("ferry-round-trips-");
    const r = await runFerry(["--no-tls", "--no-progress", `127.0.0.1:${port}`, "-c", "get d/a.txt"], {
      cwd: dest,
      timeoutMs: 30_000,
    });
    expect(r.code).toBe(0);
    expect(await readFile(path.join(dest, "a.txt"), "utf8")).toBe("alpha");
    expect(events.slice(0, 4)).toEqual(["recv hello", "recv get", "send hello", "send get"]);
    expect(events).not.toContain("recv stat");

    // A directory is still refused with the hint to use -r.
    const dir = await runFerry(["--no-tls", `127.0.0.1:${port}`, "-c", "get d"], {
      cwd: dest,
      timeoutMs: 30_000,
    });
    expect(dir.code).toBe(1);
    expect(dir.stderr).toMatch(/^ferry: get d: EISDIR: \/d is a directory; use get -r$/m);
  });

  it("put of one file sends the put at once, without a stat first", async () => {
    const { port, events } = await recordingServer();
    const dir = await tempDirForTest("ferry-round-trips-");
    await writeFile(path.join(dir, "c.txt"), "gamma");
    const r = await runFerry(["--no-tls", "--no-progress", `127.0.0.1:${port}`, "-c", "put c.txt"], {
      cwd: dir,
      timeoutMs: 30_000,
    });
    expect(r.code).toBe(0);
    expect(events.slice(0, 4)).toEqual(["recv hello", "recv put", "send hello", "send put"]);
    expect(events).not.toContain("recv stat");
  });

  it("mput -r sends its puts behind the folders' mkdir and listing, without waiting for either", async () => {
    const { port, events } = await recordingServer();
    const dir = await tempDirForTest("ferry-round-trips-");
    await mkdir(path.join(dir, "t", "sub"), { recursive: true });
    await writeFile(path.join(dir, "t", "c.txt"), "gamma");
    await writeFile(path.join(dir, "t", "sub", "e.txt"), "epsilon");
    const r = await runFerry(["--no-tls", "--no-progress", `127.0.0.1:${port}`, "-c", "mput -r t"], {
      cwd: dir,
      timeoutMs: 30_000,
    });
    expect(r.stderr).not.toMatch(/ferry: mput/);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^put t\/.* md5 ok$/gm)).toHaveLength(2);
    // A listing's answer is held until the next frame arrives: a client that waited for the
    // listings before its puts would have every listing answered when its first put comes.
    const firstPut = events.indexOf("recv put");
    expect(firstPut).toBeGreaterThan(0);
    const before = events.slice(0, firstPut);
    expect(before.filter((e) => e === "recv list")).toHaveLength(2);
    expect(before.filter((e) => e === "send list").length).toBeLessThan(2);
  });
});
