import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import tls from "node:tls";
import { channelBindingOf, encodeFrame, FrameReader, ScramClient } from "@ferry/protocol";
import { describe, expect, it, onTestFinished } from "vitest";
import { Accounts } from "../src/accounts/accounts.js";
import { AuthBackoff } from "../src/auth.js";
import type { ServerContext } from "../src/context.js";
import { resolveOptions } from "../src/options.js";
import { Session } from "../src/session.js";
import { Storages, storageConfigOf } from "../src/storage/open.js";
import { writeTestUsers } from "./helpers/accounts.js";
import type { Header } from "./helpers/raw-client.js";
import { tempDir } from "./helpers/server.js";

/** A throwaway self-signed certificate (openssl), for TLS on 127.0.0.1. */
async function certificate(dir: string): Promise<{ key: Buffer; cert: Buffer }> {
  const key = path.join(dir, "key.pem");
  const cert = path.join(dir, "cert.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-keyout",
      key,
      "-out",
      cert,
    ],
    { stdio: "ignore" },
  );
  return { key: await readFile(key), cert: await readFile(cert) };
}

function listen(server: tls.Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port));
    onTestFinished(() => new Promise<void>((done) => server.close(() => done())));
  });
}

/**
 * ferryd's sessions over TLS 1.3: the same Session and login as startServer's, on a tls.Server,
 * until the server listens with TLS itself.
 */
async function tlsFerryd(dir: string, credentials: { key: Buffer; cert: Buffer }) {
  const file = await writeTestUsers(dir, [{ name: "alice", password: "alice pw" }]);
  const options = resolveOptions({ users: file, watchUsers: false, authBackoffMs: 1, authBackoffMaxMs: 1 });
  const ctx: ServerContext = {
    options,
    storages: new Storages(storageConfigOf(options)),
    defaultStorage: null,
    accounts: await Accounts.load(file),
    backoff: new AuthBackoff({ baseMs: 1, maxMs: 1 }),
    userBackoff: new AuthBackoff({ baseMs: 1, maxMs: 1 }),
  };
  onTestFinished(() => ctx.storages.closeAll());
  const sockets = new Set<tls.TLSSocket>();
  const server = tls.createServer({ ...credentials, minVersion: "TLSv1.3" }, (socket) => {
    sockets.add(socket);
    void new Session(socket, ctx, () => {}).run();
  });
  onTestFinished(() => {
    for (const s of sockets) s.destroy();
  });
  return listen(server);
}

/** A man in the middle: terminates the client's TLS with its own certificate and opens its own to ferryd. */
async function relay(to: number, credentials: { key: Buffer; cert: Buffer }): Promise<number> {
  const legs = new Set<tls.TLSSocket>();
  const server = tls.createServer({ ...credentials, minVersion: "TLSv1.3" }, (client) => {
    const upstream = tls.connect({ host: "127.0.0.1", port: to, rejectUnauthorized: false });
    legs.add(client);
    legs.add(upstream);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  onTestFinished(() => {
    for (const s of legs) s.destroy();
  });
  return listen(server);
}

/** Logs in as alice over TLS to `port`, bound to the connection the client sees (or, `bind: false`, unbound). */
async function login(port: number, password: string, bind = true): Promise<Header[]> {
  const socket = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false, minVersion: "TLSv1.3" });
  onTestFinished(() => {
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", resolve);
    socket.once("error", reject);
  });
  const reader = new FrameReader(socket);
  const replies: Header[] = [];
  const request = async (header: Header) => {
    socket.write(encodeFrame({ ...header, id: replies.length }));
    const frame = await reader.next();
    if (!frame) throw new Error("closed");
    replies.push(frame.header);
    return frame.header;
  };
  await request({ cmd: "hello", version: 1, client: "tls-test" });
  const client = new ScramClient("alice", password, bind ? channelBindingOf(socket) : null);
  const first = await request({ cmd: "auth", scram: client.first });
  if (first.ok !== true) return replies;
  const final = await request({ cmd: "auth", scram: await client.final(String(first.scram)) });
  if (final.ok === true) {
    client.verifyServer(String(final.scram));
    await request({ cmd: "stat", path: "/" });
  }
  return replies;
}

describe("channel binding (tls-exporter) over real TLS 1.3", () => {
  it("a login bound to its own connection works; relayed through a man in the middle, it is refused", async () => {
    const dir = await tempDir();
    const credentials = await certificate(dir);
    const port = await tlsFerryd(dir, credentials);

    const direct = await login(port, "alice pw");
    expect(direct.map((r) => r.type ?? r.code)).toEqual(["hello", "scram", "scram", "entry"]);

    // Both legs are TLS, with the right password: only the bindings differ.
    const relayed = await login(await relay(port, credentials), "alice pw");
    expect(relayed.map((r) => r.type ?? r.code)).toEqual(["hello", "scram", "EAUTH"]);
    expect(relayed[2]).toMatchObject({ ok: false, message: "wrong user or password" });
  });

  it("an unbound login (gs2 header n,,) on a TLS connection is refused before any proof", async () => {
    const dir = await tempDir();
    const port = await tlsFerryd(dir, await certificate(dir));
    const replies = await login(port, "alice pw", false);
    expect(replies.map((r) => r.type ?? r.code)).toEqual(["hello", "EAUTH"]);
    expect(String(replies[1]?.message)).toMatch(/must be bound/);
  });
});
