import {
  authAnswer,
  DEFAULT_PORT,
  FerryError,
  type HashAlgorithm,
  type HelloReply,
  isHashAlgorithm,
  type OkReply,
  PROTOCOL_VERSION,
  prepareDigests,
  SCRAM_MECHANISM,
} from "@ferry/protocol";
import { Connection } from "./connection.js";
import { scramLogin } from "./scram-login.js";
import { Session } from "./session.js";
import { SocketSource } from "./socket-source.js";
import { openTransport } from "./transport.js";
import type { ConnectOptions, FerrySession } from "./types.js";

export const DEFAULT_TIMEOUT_MS = 30_000;
export const CLIENT_NAME = "ferry";
export const CLIENT_VERSION = "0.1.0";

/**
 * Opens a session: TCP connect, the TLS handshake and the check of the server's certificate (see
 * TlsOptions), hello, and the login the server asks for: its shared secret's challenge, or (a server
 * with accounts) SCRAM-SHA-256 with `user` and `password`, bound to the TLS channel.
 *
 * Rejects with a FerryError: ECONNREFUSED (nothing reachable), ETIMEDOUT, ETLS (the handshake failed;
 * `details.reason === "not-tls"` for a plain-TCP server), EHOSTKEY (the certificate is not trusted;
 * nothing was sent), EVERSION, EBUSY, or EAUTH (`details.authRequired === true` when the server needs
 * a secret, or a user and password, and none was given; `details.rejected === true` when what was
 * given was wrong; `details.accounts === true` for a server with accounts).
 */
export async function connect(options: ConnectOptions): Promise<FerrySession> {
  if (options.limitRate !== undefined && !(options.limitRate >= 1 && Number.isFinite(options.limitRate))) {
    throw new RangeError(`limitRate must be a number of bytes per second ≥ 1, not ${options.limitRate}`);
  }
  const port = options.port ?? DEFAULT_PORT;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const source = new SocketSource();
  const { socket, tls } = await openTransport(
    { host: options.host, port, timeoutMs, source },
    options.tls ?? {},
    options.knownHosts,
  );
  const conn = new Connection(socket, source, timeoutMs, options.limitRate);
  try {
    const hello = await conn.call<HelloReply>(
      (id) => ({
        cmd: "hello",
        id,
        version: PROTOCOL_VERSION,
        client: options.clientName ?? `${CLIENT_NAME}/${CLIENT_VERSION}`,
      }),
      "hello",
    );
    if (hello.version !== PROTOCOL_VERSION) {
      throw new FerryError(
        "EVERSION",
        `the server speaks protocol version ${hello.version}, not ${PROTOCOL_VERSION}`,
      );
    }
    const hashes: HashAlgorithm[] = (hello.hashes ?? ["md5"]).filter(isHashAlgorithm);
    const hash = options.hash ?? "md5";
    if (!hashes.includes(hash)) {
      throw new FerryError(
        "EALG",
        `the server does not offer the ${hash} hash (it offers ${hashes.join(", ")}); use one of those`,
        { alg: hash, offered: hashes },
      );
    }
    // xxh128's hashers are made asynchronously: have some at hand before the first transfer.
    await prepareDigests([hash]);
    if (hello.auth === SCRAM_MECHANISM) await scramLogin(conn, socket, options.user, options.password);
    else if (hello.auth) await authenticate(conn, hello, options.secret);
    return new Session(conn, {
      name: hello.server,
      version: hello.version,
      auth: hello.auth !== false,
      user: hello.auth === SCRAM_MECHANISM ? (options.user as string) : null,
      tls,
      hashes,
      hash,
    });
  } catch (err) {
    const error = err instanceof FerryError ? err : new FerryError("EINTERNAL", String(err));
    conn.fail(error);
    throw error;
  }
}

async function authenticate(conn: Connection, hello: HelloReply, secret: string | undefined): Promise<void> {
  if (hello.challenge === undefined) {
    throw new FerryError("EPROTO", "the server asks for auth but sent no challenge");
  }
  if (secret === undefined) {
    throw new FerryError("EAUTH", "the server requires a secret and none was given", { authRequired: true });
  }
  const hmac = authAnswer(secret, hello.challenge);
  try {
    await conn.call<OkReply>((id) => ({ cmd: "auth", id, hmac }), "ok");
  } catch (err) {
    if (err instanceof FerryError && err.code === "EAUTH") {
      throw new FerryError("EAUTH", "the server rejected the secret", { authRequired: true, rejected: true });
    }
    throw err;
  }
}
