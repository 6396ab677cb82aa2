import { isIP, type NetConnectOpts, connect as netConnect, type Socket } from "node:net";
import {
  type ConnectionOptions,
  checkServerIdentity,
  type PeerCertificate,
  type TLSSocket,
  connect as tlsConnect,
} from "node:tls";
import {
  certificateFingerprint,
  FerryError,
  fingerprintHex,
  normalizeFingerprint,
  SOCKET_HIGH_WATER_MARK,
} from "@ferry/protocol";
import { connectError } from "./connect-error.js";
import { KnownHosts } from "./known-hosts.js";
import type { SocketSource } from "./socket-source.js";
import type { KnownHostsOptions, TlsInfo, TlsOptions, TrustedBy } from "./types.js";

/** How long a refused TLS connection may take to deliver its close_notify before it is cut. */
const CLOSE_LINGER_MS = 1_000;

export interface TransportTarget {
  host: string;
  port: number;
  /** Covers the TCP connect and the TLS handshake, not the time a person takes to answer. */
  timeoutMs: number;
  /** The socket's reads go through it (see SocketSource). */
  source: SocketSource;
}

/**
 * A connected socket to speak the protocol on, and what was verified about the server. With TLS the
 * promise resolves only once the certificate is trusted: until then nothing has been written on the
 * connection but the TLS handshake itself, so an impostor learns nothing (not even a hello).
 */
export async function openTransport(
  target: TransportTarget,
  tls: false | TlsOptions,
  knownHosts: KnownHostsOptions | undefined,
): Promise<{ socket: Socket; tls: TlsInfo | null }> {
  if (tls === false) return { socket: await openPlain(target), tls: null };
  const pin = tls.fingerprint === undefined ? undefined : normalizeFingerprint(tls.fingerprint);
  if (tls.fingerprint !== undefined && pin === undefined) {
    throw new FerryError(
      "EHOSTKEY",
      `not a certificate fingerprint: ${tls.fingerprint} (expected SHA256:... or hex)`,
    );
  }
  return openTls(target, tls, pin, knownHosts);
}

function openPlain({ host, port, timeoutMs, source }: TransportTarget): Promise<Socket> {
  return new Promise((resolve, reject) => {
    // net.connect hands its options to the Duplex it makes (nodejs/help#4580), highWaterMark among
    // them, though NetConnectOpts does not list it.
    const options: NetConnectOpts & { highWaterMark: number } = {
      host,
      port,
      onread: source.onread,
      highWaterMark: SOCKET_HIGH_WATER_MARK,
    };
    const socket = netConnect(options);
    const timer = connectTimer(timeoutMs, () => {
      socket.destroy();
      reject(new FerryError("ETIMEDOUT", `no connection to ${host}:${port} within ${timeoutMs} ms`));
    });
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      resolve(socket);
    });
    socket.once("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(connectError(host, port, err));
    });
  });
}

function openTls(
  target: TransportTarget,
  tls: TlsOptions,
  pin: string | undefined,
  knownHosts: KnownHostsOptions | undefined,
): Promise<{ socket: Socket; tls: TlsInfo }> {
  const { host, port, timeoutMs, source } = target;
  const name = tls.servername ?? host;
  return new Promise((resolve, reject) => {
    // Chain and name are checked below, after the handshake, so that a pinned or known self-signed
    // certificate can be accepted and a failure can name the fingerprint: Node calls
    // checkServerIdentity only for chains that verified, and rejectUnauthorized would hide the
    // certificate. `authorized` still tells whether the chain verified against `ca` (or the system's).
    // `onread` works for tls.connect as for net.connect (nodejs/node#35753, documented under
    // tls.connect) but is missing from @types/node's ConnectionOptions; so is highWaterMark, which
    // reaches the socket's Duplex as with net.connect.
    const options: ConnectionOptions & { onread: SocketSource["onread"]; highWaterMark: number } = {
      host,
      port,
      servername: isIP(name) === 0 ? name : undefined,
      minVersion: "TLSv1.3",
      rejectUnauthorized: false,
      ca: tls.ca as string | Buffer | (string | Buffer)[] | undefined,
      onread: source.onread,
      highWaterMark: SOCKET_HIGH_WATER_MARK,
    };
    const socket = tlsConnect(options);
    let tcp = false;
    let secured = false;
    let settled = false;
    const fail = (err: FerryError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (secured && !socket.destroyed) {
        // A refused certificate: finish the TLS exchange and say goodbye (close_notify) rather than
        // drop the connection, so the server logs a client that left, not a broken handshake. No
        // application byte goes out either way.
        socket.end();
        setTimeout(() => socket.destroy(), CLOSE_LINGER_MS).unref();
      } else {
        socket.destroy();
      }
      reject(err);
    };
    const timer = connectTimer(timeoutMs, () =>
      fail(
        new FerryError(
          "ETIMEDOUT",
          tcp
            ? `no TLS handshake with ${host}:${port} within ${timeoutMs} ms`
            : `no connection to ${host}:${port} within ${timeoutMs} ms`,
        ),
      ),
    );
    socket.once("connect", () => {
      tcp = true;
    });
    const lost = () => new FerryError("ECONNLOST", `${hostPort(host, port)} closed the connection`);
    socket.on("error", (err: NodeJS.ErrnoException) => {
      if (secured) fail(lost());
      else fail(tcp ? handshakeError(host, port, err) : connectError(host, port, err));
    });
    socket.once("close", () => {
      const closed = Object.assign(new Error("closed"), { code: "ECONNRESET" });
      fail(secured ? lost() : handshakeError(host, port, closed));
    });
    socket.once("secureConnect", () => {
      secured = true;
      // The person asked about an unknown host may take their time; the server does not mind.
      clearTimeout(timer);
      decide(socket, { host, port, name }, tls, pin, knownHosts).then(
        (info) => {
          if (settled) return;
          if (socket.destroyed) {
            fail(lost());
            return;
          }
          settled = true;
          socket.removeAllListeners("error");
          socket.removeAllListeners("close");
          resolve({ socket, tls: info });
        },
        (err: unknown) =>
          fail(err instanceof FerryError ? err : new FerryError("EHOSTKEY", String(err), {}, { cause: err })),
      );
    });
  });
}

/** Whether to trust the certificate just presented (see TlsOptions for the order). */
async function decide(
  socket: TLSSocket,
  target: { host: string; port: number; name: string },
  tls: TlsOptions,
  pin: string | undefined,
  knownHosts: KnownHostsOptions | undefined,
): Promise<TlsInfo> {
  const { host, port } = target;
  const peer = socket.getPeerCertificate();
  if (!peer?.raw) throw new FerryError("ETLS", `${host}:${port} presented no certificate`);
  const fingerprint = certificateFingerprint(peer.raw);
  const base = { host, port, fingerprint, fingerprintHex: fingerprintHex(fingerprint) };
  const info = (trustedBy: TrustedBy): TlsInfo => ({
    fingerprint,
    trustedBy,
    protocol: socket.getProtocol() ?? "TLS",
    cipher: socket.getCipher().name,
  });
  const caError = (): string | undefined => chainOrNameError(socket, peer, target.name);

  if (pin !== undefined) {
    if (fingerprint === pin) return info("pin");
    throw new FerryError(
      "EHOSTKEY",
      `the certificate of ${hostPort(host, port)} has fingerprint ${fingerprint}, not the pinned ${pin}`,
      { ...base, reason: "mismatch", expected: pin },
    );
  }
  if (tls.ca !== undefined) {
    const why = caError();
    if (why === undefined) return info("ca");
    throw untrusted(base, why);
  }
  if (knownHosts === undefined) {
    const why = caError();
    if (why === undefined) return info("ca");
    throw untrusted(base, why);
  }
  const store = new KnownHosts(knownHosts.file);
  const entries = await store.lookup(host, port);
  if (entries.some((e) => e.fingerprint === fingerprint)) return info("known-hosts");
  const old = entries[0];
  if (old !== undefined) {
    throw new FerryError(
      "EHOSTKEY",
      `the certificate of ${hostPort(host, port)} has changed (${fingerprint}, not ${old.fingerprint} as in ${store.file}:${old.line})`,
      { ...base, reason: "changed", expected: old.fingerprint, knownHostsFile: store.file, line: old.line },
    );
  }
  if (caError() === undefined) return info("ca");
  const accept = knownHosts.onUnknownHost
    ? await knownHosts.onUnknownHost({ ...base, knownHostsFile: store.file })
    : false;
  if (!accept) {
    throw new FerryError(
      "EHOSTKEY",
      `${hostPort(host, port)} is not a known host (fingerprint ${fingerprint})`,
      {
        ...base,
        reason: "unknown",
        knownHostsFile: store.file,
      },
    );
  }
  await store.add(host, port, fingerprint);
  return info("accepted");
}

/** Why the chain or the name does not verify, or undefined when both do. */
function chainOrNameError(socket: TLSSocket, peer: PeerCertificate, name: string): string | undefined {
  if (!socket.authorized) return String(socket.authorizationError ?? "not issued by a trusted CA");
  return checkServerIdentity(name, peer)?.message;
}

function untrusted(base: { host: string; port: number; fingerprint: string }, why: string): FerryError {
  return new FerryError(
    "EHOSTKEY",
    `the certificate of ${hostPort(base.host, base.port)} is not trusted (${why}); its fingerprint is ${base.fingerprint}`,
    { ...base, reason: "untrusted", caError: why },
  );
}

/** The TLS error a person can act on: above all, a server that does not speak TLS at all. */
function handshakeError(host: string, port: number, err: NodeJS.ErrnoException): FerryError {
  const code = err.code ?? "";
  const where = hostPort(host, port);
  // A plain server's bytes (a ferry error frame, or anything else) are not a TLS record.
  if (
    code === "ERR_SSL_WRONG_VERSION_NUMBER" ||
    code === "ERR_SSL_PACKET_LENGTH_TOO_LONG" ||
    code === "ERR_SSL_HTTP_REQUEST"
  ) {
    return new FerryError(
      "ETLS",
      `${where} does not speak TLS; if it was started with --no-tls, connect without TLS`,
      { host, port, reason: "not-tls", sysCode: code },
      { cause: err },
    );
  }
  if (code === "ECONNRESET" || code === "EPIPE") {
    return new FerryError(
      "ETLS",
      `${where} closed the connection during the TLS handshake`,
      {
        host,
        port,
        reason: "closed",
        sysCode: code,
      },
      { cause: err },
    );
  }
  const reason = /:([^:]+)$/.exec(err.message)?.[1] ?? err.message;
  return new FerryError(
    "ETLS",
    `TLS handshake with ${where} failed: ${reason}`,
    {
      host,
      port,
      reason: "handshake",
      sysCode: code,
    },
    { cause: err },
  );
}

function connectTimer(timeoutMs: number, onTimeout: () => void): NodeJS.Timeout | undefined {
  return timeoutMs > 0 ? setTimeout(onTimeout, timeoutMs) : undefined;
}

function hostPort(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}
