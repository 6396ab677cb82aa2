import { X509Certificate } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import type { Socket } from "node:net";
import { join } from "node:path";
import tls from "node:tls";
import { certificateFingerprint } from "@ferry/protocol";
import { makeTestCa, type TestCertificate } from "@ferry/test-fixtures";
import { describe, expect, it, onTestFinished } from "vitest";
import { connect, type UnknownHost } from "../../src/lib/index.js";
import { MiB, rejection, session, tempDir, testProxy, testServer, writeRandomFile } from "./helpers.js";

/**
 * A TLS server with its own certificate that completes every handshake and records every byte a
 * client sends after it. With `upstream`, it relays the plaintext to a real ferryd (a
 * TLS-terminating proxy, as a man in the middle would run), connecting only once a byte arrives.
 */
async function recorder(
  own: TestCertificate,
  upstream?: { host: string; port: number; fingerprint: string },
): Promise<{ port: number; handshakes: () => number; received: () => number; upstreams: () => number }> {
  let handshakes = 0;
  let received = 0;
  let upstreams = 0;
  const sockets = new Set<Socket>();
  const server = tls.createServer({ cert: own.cert, key: own.key, minVersion: "TLSv1.3" }, (client) => {
    handshakes++;
    sockets.add(client);
    client.on("error", () => {});
    let up: tls.TLSSocket | null = null;
    client.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (!upstream) return;
      if (!up) {
        upstreams++;
        up = tls.connect({ host: upstream.host, port: upstream.port, rejectUnauthorized: false });
        sockets.add(up);
        up.on("error", () => client.destroy());
        up.on("data", (d: Buffer) => client.write(d));
        up.on("close", () => client.destroy());
        client.on("close", () => up?.destroy());
      }
      up.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onTestFinished(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    port: address.port,
    handshakes: () => handshakes,
    received: () => received,
    upstreams: () => upstreams,
  };
}

/** Waits until the recorder has seen `n` handshakes and the client side is gone. */
async function settled(r: { handshakes: () => number }, n: number): Promise<void> {
  for (let i = 0; i < 500 && r.handshakes() < n; i++) await new Promise((ok) => setTimeout(ok, 10));
  // A last look after the client's close has had time to arrive with any bytes before it.
  await new Promise((ok) => setTimeout(ok, 50));
}

const fingerprintOf = (pem: string) => certificateFingerprint(new X509Certificate(pem).raw);

describe("trusting the server's certificate", () => {
  it("a pinned fingerprint connects over TLS 1.3; another certificate is refused after its handshake, with nothing sent", async () => {
    const server = await testServer();
    const pin = server.tls === false ? "" : (server.tls.fingerprint as string);
    const s = await session(server);
    expect(s.server.tls).toMatchObject({ fingerprint: pin, trustedBy: "pin", protocol: "TLSv1.3" });

    const impostor = await recorder(await (await makeTestCa()).issue({ ips: ["127.0.0.1"] }));
    const err = await rejection(
      connect({ host: "127.0.0.1", port: impostor.port, tls: { fingerprint: pin } }),
    );
    expect(err.code).toBe("EHOSTKEY");
    expect(err.details).toMatchObject({ reason: "mismatch", expected: pin });
    await settled(impostor, 1);
    expect(impostor.handshakes()).toBe(1);
    expect(impostor.received()).toBe(0);
  });

  it("a relay that terminates TLS with its own certificate is refused and learns nothing; trusted, it relays", async () => {
    const server = await testServer();
    const pin = server.tls === false ? "" : (server.tls.fingerprint as string);
    const own = await (await makeTestCa()).issue({ ips: ["127.0.0.1"] });
    const relay = await recorder(own, { host: server.host, port: server.port, fingerprint: pin });
    const khFile = join(await tempDir(), "known_hosts");
    // The user knows the real server at this address; the relay now answers there.
    await writeFile(khFile, `127.0.0.1:${relay.port} ${pin}\n`);
    for (const options of [{ tls: { fingerprint: pin } }, { knownHosts: { file: khFile } }]) {
      const err = await rejection(
        connect({ host: "127.0.0.1", port: relay.port, secret: "s3cret", ...options }),
      );
      expect(err.code).toBe("EHOSTKEY");
    }
    await settled(relay, 2);
    expect(relay.handshakes()).toBe(2);
    expect(relay.received()).toBe(0);
    expect(relay.upstreams()).toBe(0);

    // The relay works: a client that trusts the relay's own certificate gets through to the server.
    const through = await session({
      host: "127.0.0.1",
      port: relay.port,
      tls: { fingerprint: fingerprintOf(own.cert) },
    });
    expect((await through.stat("/")).type).toBe("dir");
    expect(relay.received()).toBeGreaterThan(0);
    expect(relay.upstreams()).toBe(1);
  });

  it("by default only a certificate a trusted CA issued for the host name; the error names the fingerprint", async () => {
    const server = await testServer();
    const err = await rejection(connect({ host: server.host, port: server.port }));
    expect(err.code).toBe("EHOSTKEY");
    expect(err.details).toMatchObject({
      reason: "untrusted",
      fingerprint: server.tls === false ? "" : server.tls.fingerprint,
    });
  });

  it("tls.ca: a certificate from that CA for the host name; another name or another CA is refused", async () => {
    const ca = await makeTestCa();
    const leaf = await ca.issue({ dns: ["localhost"], ips: ["127.0.0.1"] });
    const server = await testServer({ tls: { cert: leaf.cert, key: leaf.key } });
    const s = await session(server, { tls: { ca: ca.cert } });
    expect(s.server.tls?.trustedBy).toBe("ca");
    const byName = await session({ host: "localhost", port: server.port }, { tls: { ca: ca.cert } });
    expect(byName.server.tls?.trustedBy).toBe("ca");

    const wrongName = await rejection(
      connect({ host: server.host, port: server.port, tls: { ca: ca.cert, servername: "ferry.example" } }),
    );
    expect(wrongName).toMatchObject({ code: "EHOSTKEY", details: { reason: "untrusted" } });
    const otherCa = await rejection(
      connect({ host: server.host, port: server.port, tls: { ca: (await makeTestCa()).cert } }),
    );
    expect(otherCa).toMatchObject({ code: "EHOSTKEY", details: { reason: "untrusted" } });
    // A self-signed ferryd is not vouched for by the CA either.
    const selfSigned = await testServer();
    const self = await rejection(
      connect({ host: selfSigned.host, port: selfSigned.port, tls: { ca: ca.cert } }),
    );
    expect(self).toMatchObject({ code: "EHOSTKEY", details: { reason: "untrusted" } });
  });
});

describe("known hosts", () => {
  it("an unknown host is asked about; no records nothing, yes records it, and then it is known", async () => {
    const server = await testServer();
    const fingerprint = server.tls === false ? "" : (server.tls.fingerprint as string);
    const file = join(await tempDir(), "dir", "known_hosts");
    const asked: UnknownHost[] = [];

    const silent = await rejection(connect({ host: server.host, port: server.port, knownHosts: { file } }));
    expect(silent).toMatchObject({
      code: "EHOSTKEY",
      details: { reason: "unknown", fingerprint, knownHostsFile: file },
    });
    const no = await rejection(
      connect({
        host: server.host,
        port: server.port,
        knownHosts: { file, onUnknownHost: (h) => asked.push(h) === 0 },
      }),
    );
    expect(no.code).toBe("EHOSTKEY");
    await expect(readdir(join(file, ".."))).rejects.toMatchObject({ code: "ENOENT" });

    const yes = await session(
      { host: server.host, port: server.port },
      { tls: {}, knownHosts: { file, onUnknownHost: (h) => asked.push(h) > 0 } },
    );
    expect(yes.server.tls?.trustedBy).toBe("accepted");
    expect(asked).toHaveLength(2);
    expect(asked[0]).toMatchObject({
      host: "127.0.0.1",
      port: server.port,
      fingerprint,
      knownHostsFile: file,
    });
    expect(asked[0]?.fingerprintHex).toMatch(/^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/);
    expect(await readFile(file, "utf8")).toBe(`127.0.0.1:${server.port} ${fingerprint}\n`);

    const known = await session(server, {
      tls: {},
      knownHosts: { file, onUnknownHost: () => expect.fail("asked again") },
    });
    expect(known.server.tls?.trustedBy).toBe("known-hosts");
  });

  it("a changed certificate is refused with the old and new fingerprints and the line, whatever the callback says", async () => {
    const server = await testServer();
    const file = join(await tempDir(), "known_hosts");
    const old = `SHA256:${"Q".repeat(43)}`;
    await writeFile(file, `# servers\n127.0.0.1:${server.port} ${old}\n`);
    const err = await rejection(
      connect({ host: server.host, port: server.port, knownHosts: { file, onUnknownHost: () => true } }),
    );
    expect(err).toMatchObject({
      code: "EHOSTKEY",
      details: {
        reason: "changed",
        expected: old,
        fingerprint: server.tls === false ? "" : server.tls.fingerprint,
        knownHostsFile: file,
        line: 2,
      },
    });
    expect(await readFile(file, "utf8")).toBe(`# servers\n127.0.0.1:${server.port} ${old}\n`);
  });

  it("with tls.ca the CA decides: known hosts are neither asked nor written", async () => {
    const ca = await makeTestCa();
    const leaf = await ca.issue({ ips: ["127.0.0.1"] });
    const server = await testServer({ tls: { cert: leaf.cert, key: leaf.key } });
    const file = join(await tempDir(), "known_hosts");
    // (A host with no entry and a certificate from a CA the system trusts: host-trust.test.ts, where a
    // child process can be given NODE_EXTRA_CA_CERTS.)
    const s = await connect({
      host: server.host,
      port: server.port,
      tls: { ca: ca.cert },
      knownHosts: { file, onUnknownHost: () => expect.fail("asked") },
    });
    onTestFinished(() => s.close());
    expect(s.server.tls?.trustedBy).toBe("ca");
    await expect(readFile(file)).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("TLS and plain TCP", () => {
  it("a plain client reaching a TLS server, and a TLS client reaching a plain one, both get ETLS at once", async () => {
    const tlsServer = await testServer();
    expect((await rejection(connect({ host: tlsServer.host, port: tlsServer.port, tls: false }))).code).toBe(
      "ETLS",
    );
    const plain = await testServer({ tls: false });
    const err = await rejection(connect({ host: plain.host, port: plain.port }));
    expect(err).toMatchObject({ code: "ETLS", details: { reason: "not-tls" } });
  });

  it("a secret works inside TLS", async () => {
    const server = await testServer({ secret: "s3cret" });
    const s = await session(server, { secret: "s3cret" });
    expect(s.server).toMatchObject({ auth: true, tls: { protocol: "TLSv1.3" } });
  });

  it("a byte flipped on the wire breaks the TLS record: the transfer fails and no file appears", async () => {
    const server = await testServer();
    await writeRandomFile(join(server.root, "f.bin"), 3 * MiB);
    const proxy = await testProxy(server, { flip: { direction: "down", at: MiB } });
    const s = await session(proxy);
    const dir = await tempDir();
    const err = await rejection(s.get("f.bin", join(dir, "f.bin"), { resume: false }));
    expect(err.code).toBe("ECONNLOST");
    expect((await readdir(dir)).filter((n) => n === "f.bin")).toEqual([]);
  });
});
