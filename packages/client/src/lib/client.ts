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
import type { ConnectOptions, FerrySession, ServerInfo } from "./types.js";

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
  const hash = options.hash ?? "md5";
  // xxh128's hashers are made asynchronously: have some at hand before the first transfer. Local
  // work, so it runs while the connection is being made.
  const digests = prepareDigests([hash]);
  digests.catch(() => {});
  const source = new SocketSource();
  const { socket, tls } = await openTransport(
    { host: options.host, port, timeoutMs, source },
    options.tls ?? {},
    options.knownHosts,
  );
  const conn = new Connection(socket, source, timeoutMs, options.limitRate);
  const failed = (err: unknown, early: boolean): FerryError => {
    let error = err instanceof FerryError ? err : new FerryError("EINTERNAL", String(err));
    // The early requests already on the wire fail with this error: the flag tells their callers
    // that the server did none of them (it stops at the first request it cannot take).
    if (early) {
      error = new FerryError(error.code, error.message, { ...error.details, early: true }, { cause: error });
    }
    conn.fail(error);
    return error;
  };
  const answer = conn.call<HelloReply>(
    (id) => ({
      cmd: "hello",
      id,
      version: PROTOCOL_VERSION,
      client: options.clientName ?? `${CLIENT_NAME}/${CLIENT_VERSION}`,
    }),
    "hello",
  );
  if (options.early !== true) {
    try {
      const hello = await answer;
      const checked = checkHello(hello, hash, tls);
      await digests;
      if (hello.auth === SCRAM_MECHANISM) await scramLogin(conn, socket, options.user, options.password);
      else if (hello.auth) await authenticate(conn, hello, options.secret);
      const info = { ...checked, user: hello.auth === SCRAM_MECHANISM ? (options.user as string) : null };
      return new Session(conn, info, Promise.resolve(info));
    } catch (err) {
      throw failed(err, false);
    }
  }
  // Early: the caller's first requests go out behind the hello, a round trip sooner. The server
  // takes them only if the hello's answer says no login is needed (PROTOCOL.md §5).
  try {
    await digests;
  } catch (err) {
    throw failed(err, false);
  }
  const ready = answer
    .then((hello) => {
      const info = checkHello(hello, hash, tls);
      if (hello.auth !== false) {
        throw new FerryError("EAUTH", "the server asks for a login; connect again with one", {
          authRequired: true,
          accounts: hello.auth === SCRAM_MECHANISM,
        });
      }
      return info;
    })
    .catch((err: unknown) => {
      throw failed(err, true);
    });
  const provisional: ServerInfo = {
    name: "",
    version: PROTOCOL_VERSION,
    auth: false,
    user: null,
    tls,
    hashes: [hash],
    hash,
  };
  return new Session(conn, provisional, ready);
}

/** What a good hello answer says of the server; EVERSION or EALG when the session cannot go on. */
function checkHello(hello: HelloReply, hash: HashAlgorithm, tls: ServerInfo["tls"]): ServerInfo {
  if (hello.version !== PROTOCOL_VERSION) {
    throw new FerryError(
      "EVERSION",
      `the server speaks protocol version ${hello.version}, not ${PROTOCOL_VERSION}`,
    );
  }
  const hashes: HashAlgorithm[] = (hello.hashes ?? ["md5"]).filter(isHashAlgorithm);
  if (!hashes.includes(hash)) {
    throw new FerryError(
      "EALG",
      `the server does not offer the ${hash} hash (it offers ${hashes.join(", ")}); use one of those`,
      { alg: hash, offered: hashes },
    );
  }
  return {
    name: hello.server,
    version: hello.version,
    auth: hello.auth !== false,
    user: null,
    tls,
    hashes,
    hash,
  };
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
