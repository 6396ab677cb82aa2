import { X509Certificate } from "node:crypto";
import { once } from "node:events";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import tls from "node:tls";
import { certificateFingerprint, TLS_HANDSHAKE_BYTE } from "@ferry/protocol";
import { makeTestCa } from "@ferry/test-fixtures";
import { describe, expect, it, onTestFinished } from "vitest";
import { type LogLevel, type ServerOptions, startServer } from "../src/index.js";
import { RawClient } from "./helpers/raw-client.js";
import { tempDir } from "./helpers/server.js";
import { until } from "./helpers/wait.js";

/** An in-process ferryd speaking TLS with a certificate in its own state directory. */
async function tlsServer(options: Partial<ServerOptions> = {}) {
  const base = await tempDir();
  const stateDir = path.join(base, "state");
  const lines: { level: LogLevel; msg: string; fields: Record<string, unknown> }[] = [];
  const server = await startServer({
    root: path.join(base, "root"),
    port: 0,
    tls: { stateDir },
    logger: { log: (level, msg, fields = {}) => lines.push({ level, msg, fields }) },
    ...options,
  });
  onTestFinished(() => server.close());
  return { server, base, stateDir, lines, fingerprint: server.fingerprint as string };
}

/** A TLS handshake with no check of the certificate, to look at what the server presents. */
async function handshake(port: number, options: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
  const socket = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false, ...options });
  onTestFinished(() => {
    socket.destroy();
  });
  await Promise.race([
    once(socket, "secureConnect"),
    once(socket, "error").then(([err]) => {
      throw err;
    }),
  ]);
  return socket;
}

/** Resolves when the socket has closed, however (events.once would reject on an 'error' first). */
function closeOf(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => socket.once("close", () => resolve()));
}

describe("TLS on the ferryd listener", () => {
  it("serves TLS 1.3 with the certificate made in the state directory, key 0600, reused on restart", async () => {
    const { server, stateDir, fingerprint, base } = await tlsServer();
    expect(server.certCreated).toBe(true);
    expect(fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    const files = path.join(stateDir, "tls");
    expect((await stat(path.join(files, "key.pem"))).mode & 0o777).toBe(0o600);
    expect((await stat(stateDir)).mode & 0o777).toBe(0o700);
    // Nothing but the pair: the temporary folder it was written in is gone.
    expect((await readdir(stateDir)).sort()).toEqual(["tls"]);
    const pem = await readFile(path.join(files, "cert.pem"), "utf8");
    expect(certificateFingerprint(new X509Certificate(pem).raw)).toBe(fingerprint);

    const socket = await handshake(server.port);
    expect(socket.getProtocol()).toBe("TLSv1.3");
    expect(certificateFingerprint(socket.getPeerCertificate().raw)).toBe(fingerprint);
    const c = await RawClient.ready(server.port, undefined, fingerprint);
    expect(await c.request({ cmd: "stat", path: "/" })).toMatchObject({ ok: true });
    c.close();
    await server.close();

    const again = await startServer({ root: path.join(base, "root"), port: 0, tls: { stateDir } });
    onTestFinished(() => again.close());
    expect(again.fingerprint).toBe(fingerprint);
    expect(again.certCreated).toBe(false);
  });

  it("two servers starting at once on a new state directory end up with one certificate", async () => {
    const base = await tempDir();
    const stateDir = path.join(base, "state");
    const start = (n: number) =>
      startServer({ root: path.join(base, `root${n}`), port: 0, tls: { stateDir } });
    const servers = await Promise.all([start(1), start(2), start(3)]);
    for (const s of servers) onTestFinished(() => s.close());
    expect(new Set(servers.map((s) => s.fingerprint)).size).toBe(1);
    const socket = await handshake(servers[2]?.port ?? 0);
    expect(certificateFingerprint(socket.getPeerCertificate().raw)).toBe(servers[0]?.fingerprint);
  });

  it("refuses a state directory or a key file inside the served root, before writing a key there", async () => {
    const base = await tempDir();
    const root = path.join(base, "root");
    await expect(
      startServer({ root, port: 0, tls: { stateDir: path.join(root, "state") } }),
    ).rejects.toMatchObject({
      code: "ETLS",
    });
    await expect(startServer({ root, port: 0, tls: { stateDir: root } })).rejects.toMatchObject({
      code: "ETLS",
    });
    expect(await readdir(root)).toEqual(["state"]); // created by mkdir, but empty
    expect(await readdir(path.join(root, "state"))).toEqual([]);

    const ca = await makeTestCa();
    const leaf = await ca.issue({ ips: ["127.0.0.1"] });
    await writeFile(path.join(base, "cert.pem"), leaf.cert);
    await writeFile(path.join(root, "key.pem"), leaf.key);
    const inRoot = { certFile: path.join(base, "cert.pem"), keyFile: path.join(root, "key.pem") };
    await expect(startServer({ root, port: 0, tls: inRoot })).rejects.toMatchObject({ code: "ETLS" });
  });

  it("takes a CA-issued certificate and key from files; a key of another certificate is refused", async () => {
    const base = await tempDir();
    const ca = await makeTestCa();
    const leaf = await ca.issue({ dns: ["localhost"], ips: ["127.0.0.1"] });
    const other = await ca.issue({ ips: ["127.0.0.1"] });
    await writeFile(path.join(base, "cert.pem"), leaf.cert);
    await writeFile(path.join(base, "key.pem"), leaf.key);
    await writeFile(path.join(base, "other-key.pem"), other.key);
    const server = await startServer({
      root: path.join(base, "root"),
      port: 0,
      tls: { certFile: path.join(base, "cert.pem"), keyFile: path.join(base, "key.pem") },
    });
    onTestFinished(() => server.close());
    // Verified the normal way: the CA and the name.
    const socket = await handshake(server.port, { ca: ca.cert, rejectUnauthorized: true });
    expect(socket.authorized).toBe(true);
    expect(server.fingerprint).toBe(certificateFingerprint(new X509Certificate(leaf.cert).raw));

    const mismatched = { certFile: path.join(base, "cert.pem"), keyFile: path.join(base, "other-key.pem") };
    await expect(
      startServer({ root: path.join(base, "root2"), port: 0, tls: mismatched }),
    ).rejects.toMatchObject({
      code: "ETLS",
    });
  });

  it("refuses TLS 1.2", async () => {
    const { server } = await tlsServer();
    await expect(handshake(server.port, { maxVersion: "TLSv1.2" })).rejects.toThrow();
  });

  it("plain TCP on a non-loopback address only with insecurePlain", async () => {
    const base = await tempDir();
    // 192.0.2.1 (TEST-NET-1) is on no interface here: past the check, listening fails without
    // anything ever being exposed.
    const opts = {
      root: path.join(base, "root"),
      host: "192.0.2.1",
      port: 0,
      secret: "s",
      tls: false as const,
    };
    await expect(startServer(opts)).rejects.toMatchObject({ code: "ETLS" });
    await expect(startServer({ ...opts, insecurePlain: true })).rejects.toMatchObject({ code: "EINTERNAL" });
  });
});

describe("clients of the other kind", () => {
  it("a plain-TCP client reaching the TLS server gets one ETLS error frame and the connection closes", async () => {
    const { server, lines } = await tlsServer();
    const c = await RawClient.connect(server.port);
    const reply = await c.request({ cmd: "hello", version: 1, client: "plain" });
    expect(reply).toMatchObject({ ok: false, id: null, code: "ETLS" });
    await c.closed;
    expect(lines.some((l) => l.level === "warn" && l.msg === "disconnect")).toBe(true);
  });

  it("a TLS client reaching a plain server fails its handshake at once instead of hanging", async () => {
    const base = await tempDir();
    const lines: string[] = [];
    const server = await startServer({
      root: path.join(base, "root"),
      port: 0,
      tls: false,
      logger: { log: (_level, msg, fields) => lines.push(`${msg} ${String(fields?.reason)}`) },
    });
    onTestFinished(() => server.close());
    // Default timeouts of 30 s: the handshake must fail on the server's answer, not on a timer.
    const err = (await handshake(server.port).then(
      () => null,
      (e: NodeJS.ErrnoException) => e,
    )) as NodeJS.ErrnoException | null;
    expect(err?.code).toBe("ERR_SSL_WRONG_VERSION_NUMBER");
    expect(lines).toContain("disconnect a TLS client reached this --no-tls server");
  });
});

describe("the handshake and the connection slots", () => {
  it("a client that stalls before or inside the handshake is cut at the header deadline, freeing its slot", async () => {
    const { server, lines } = await tlsServer({ maxConnections: 2, headerTimeoutMs: 300 });
    const silent = net.connect(server.port, "127.0.0.1");
    const partial = net.connect(server.port, "127.0.0.1", () =>
      partial.write(Buffer.from([TLS_HANDSHAKE_BYTE, 3])),
    );
    for (const s of [silent, partial]) s.on("error", () => {});
    await Promise.all([once(silent, "connect"), once(partial, "connect")]);
    // Both slots are taken: a third client hears EBUSY, inside TLS.
    const third = await RawClient.connect(server.port, "127.0.0.1", server.fingerprint as string);
    expect(await third.request({ cmd: "hello", version: 1, client: "t" })).toMatchObject({
      ok: false,
      code: "EBUSY",
    });
    await Promise.all([closeOf(silent), closeOf(partial)]);
    expect(lines.filter((l) => l.fields.reason === "the TLS handshake took too long")).toHaveLength(2);
    const next = await RawClient.ready(server.port, undefined, server.fingerprint as string);
    expect(await next.request({ cmd: "stat", path: "/" })).toMatchObject({ ok: true });
    next.close();
  });

  it("a client that hangs up in the middle of its handshake frees its slot at once", async () => {
    // A deadline far past the test's timeout: only noticing the hang-up frees the one slot in time.
    const { server } = await tlsServer({ maxConnections: 1, headerTimeoutMs: 600_000 });
    const quitter = net.connect(server.port, "127.0.0.1", () => {
      quitter.end(Buffer.from([TLS_HANDSHAKE_BYTE, 3, 1]));
    });
    quitter.on("error", () => {});
    await closeOf(quitter);
    // A half-handshake quitter: TLS answers, then our client hangs up after the server's first flight.
    const fingerprint = server.fingerprint as string;
    const halfway = await handshake(server.port);
    halfway.destroy();
    const served = await until(async () => {
      const c = await RawClient.connect(server.port, "127.0.0.1", fingerprint);
      const hello = await c.request({ cmd: "hello", version: 1, client: "t" });
      c.close();
      return hello.ok === true ? true : undefined;
    }, "a free slot");
    expect(served).toBe(true);
  });

  it("shutdown does not wait for connections still in their handshake", async () => {
    // A deadline far past the test's timeout: only shutdown can end this connection in time.
    const { server } = await tlsServer({ headerTimeoutMs: 600_000, graceMs: 100 });
    const stuck = net.connect(server.port, "127.0.0.1", () => stuck.write(Buffer.from([TLS_HANDSHAKE_BYTE])));
    stuck.on("error", () => {});
    await once(stuck, "connect");
    const closed = closeOf(stuck);
    await server.close();
    await closed;
  });
});
