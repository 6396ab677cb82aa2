import { writeFile } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import {
  encodeFrame,
  FrameReader,
  formatVerifier,
  makeVerifier,
  SCRAM_MAX_ITERATIONS,
} from "@ferry/protocol";
import { startServer } from "@ferry/server";
import { describe, expect, it, onTestFinished } from "vitest";
import { connect, type FerryError } from "../../src/lib/index.js";
import { session, tempDir } from "./helpers.js";

async function rejection(promise: Promise<unknown>): Promise<FerryError> {
  try {
    await promise;
  } catch (err) {
    return err as FerryError;
  }
  throw new Error("expected a rejection");
}

/** A ferryd with accounts (4096 iterations: RFC 7677's floor, fast) over fresh roots. */
async function accountsServer(users: { name: string; password: string }[]) {
  const base = await tempDir("ferry-accounts-");
  const file = join(base, "users.json");
  const entries = await Promise.all(
    users.map(async (u) => ({
      name: u.name,
      verifier: formatVerifier(await makeVerifier(u.password, 4096)),
      root: join(base, u.name),
      access: "read-write",
    })),
  );
  await writeFile(file, JSON.stringify({ version: 1, users: entries }), { mode: 0o600 });
  const server = await startServer({
    users: file,
    host: "127.0.0.1",
    port: 0,
    fsync: false,
    watchUsers: false,
    tls: false,
  });
  onTestFinished(() => server.close());
  return { host: server.host, port: server.port, base, tls: false as const };
}

/**
 * A server that says it has accounts and plays SCRAM without holding the verifier: what a man in
 * the middle, or a server set up to harvest logins, can do. `serverFirst` builds its reply to the
 * client-first message.
 */
async function impostor(
  serverFirst: (clientNonce: string) => string,
): Promise<{ host: string; port: number; tls: false }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    void (async () => {
      const reader = new FrameReader(socket);
      for (;;) {
        const frame = await reader.next();
        if (frame === null) return;
        const req = frame.header;
        if (req.cmd === "hello") {
          socket.write(
            encodeFrame({
              ok: true,
              id: req.id,
              type: "hello",
              version: 1,
              server: "impostor/1",
              auth: "scram-sha-256",
            }),
          );
        } else if (req.cmd === "auth" && String(req.scram).startsWith("n,,")) {
          const nonce = /r=([^,]+)/.exec(String(req.scram))?.[1] ?? "";
          socket.write(encodeFrame({ ok: true, id: req.id, type: "scram", scram: serverFirst(nonce) }));
        } else if (req.cmd === "auth") {
          // Accepts any proof and "proves" itself with a signature it cannot compute.
          socket.write(
            encodeFrame({
              ok: true,
              id: req.id,
              type: "scram",
              scram: `v=${Buffer.alloc(32, 1).toString("base64")}`,
            }),
          );
        } else {
          socket.write(
            encodeFrame({
              ok: true,
              id: req.id,
              type: "entry",
              entry: { name: "/", type: "dir", size: 0, mtime: 0 },
            }),
          );
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
  return { host: "127.0.0.1", port: address.port, tls: false as const };
}

describe("connect to a server with accounts", () => {
  it("logs in with user and password; the session knows who it is", async () => {
    const server = await accountsServer([{ name: "alice", password: "alice pw" }]);
    const s = await session(server, { user: "alice", password: "alice pw" });
    expect(s.server).toMatchObject({ auth: true, user: "alice" });
    expect((await s.stat("/")).type).toBe("dir");
  });

  it("a wrong password and an unknown user fail alike: EAUTH, wrong user or password", async () => {
    const server = await accountsServer([{ name: "alice", password: "alice pw" }]);
    const wrong = await rejection(connect({ ...server, user: "alice", password: "nope" }));
    const unknown = await rejection(connect({ ...server, user: "nobody", password: "nope" }));
    for (const err of [wrong, unknown]) {
      expect(err.code).toBe("EAUTH");
      expect(err.message).toBe("wrong user or password");
      expect(err.details).toEqual({ authRequired: true, accounts: true, rejected: true });
    }
  });

  it("says what is missing when no user or no password was given", async () => {
    const server = await accountsServer([{ name: "alice", password: "alice pw" }]);
    expect((await rejection(connect({ ...server, password: "x" }))).details).toMatchObject({
      missing: "user",
    });
    expect((await rejection(connect({ ...server, user: "alice" }))).details).toMatchObject({
      missing: "password",
    });
    expect((await rejection(connect({ ...server, secret: "a shared secret" }))).details).toMatchObject({
      accounts: true,
      missing: "user",
    });
  });

  it("does not believe a server that cannot prove it holds the user's verifier", async () => {
    const server = await impostor(
      (nonce) => `r=${nonce}impostor,s=${Buffer.from("salt").toString("base64")},i=4096`,
    );
    const err = await rejection(connect({ ...server, user: "alice", password: "alice pw" }));
    expect(err.code).toBe("EAUTH");
    expect(err.message).toMatch(/could not prove/);
  });

  it("refuses to work for a server asking too many iterations, and one that does not extend its nonce", async () => {
    const greedy = await impostor(
      (nonce) => `r=${nonce}x,s=${Buffer.from("salt").toString("base64")},i=${SCRAM_MAX_ITERATIONS + 1}`,
    );
    expect((await rejection(connect({ ...greedy, user: "alice", password: "pw" }))).code).toBe("EAUTH");
    const foreign = await impostor(() => `r=somebodyelse,s=${Buffer.from("salt").toString("base64")},i=4096`);
    expect((await rejection(connect({ ...foreign, user: "alice", password: "pw" }))).code).toBe("EAUTH");
  });
});
