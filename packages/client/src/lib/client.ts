import { connect as netConnect, type Socket } from "node:net";
import {
  authAnswer,
  DEFAULT_PORT,
  FerryError,
  type HelloReply,
  type OkReply,
  PROTOCOL_VERSION,
  SCRAM_MECHANISM,
} from "@ferry/protocol";
import { connectError } from "./connect-error.js";
import { Connection } from "./connection.js";
import { scramLogin } from "./scram-login.js";
import { Session } from "./session.js";
import { SocketSource } from "./socket-source.js";
import type { ConnectOptions, FerrySession } from "./types.js";

export const DEFAULT_TIMEOUT_MS = 30_000;
export const CLIENT_NAME = "ferry";
export const CLIENT_VERSION = "0.1.0";

/**
 * Opens a session: TCP connect, hello, and the login the server asks for: its shared secret's
 * challenge, or (a server with accounts) SCRAM-SHA-256 with `user` and `password`.
 *
 * Rejects with a FerryError: ECONNREFUSED (nothing reachable), ETIMEDOUT, EVERSION, EBUSY, or EAUTH
 * (`details.authRequired === true` when the server needs a secret, or a user and password, and none
 * was given; `details.rejected === true` when what was given was wrong; `details.accounts === true`
 * for a server with accounts).
 */
export async function connect(options: ConnectOptions): Promise<FerrySession> {
  const port = options.port ?? DEFAULT_PORT;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const source = new SocketSource();
  const socket = await openSocket(options.host, port, timeoutMs, source);
  const conn = new Connection(socket, source, timeoutMs);
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
    if (hello.auth === SCRAM_MECHANISM) await scramLogin(conn, socket, options.user, options.password);
    else if (hello.auth) await authenticate(conn, hello, options.secret);
    return new Session(conn, {
      name: hello.server,
      version: hello.version,
      auth: hello.auth !== false,
      user: hello.auth === SCRAM_MECHANISM ? (options.user as string) : null,
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

function openSocket(host: string, port: number, timeoutMs: number, source: SocketSource): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port, onread: source.onread });
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            socket.destroy();
            reject(new FerryError("ETIMEDOUT", `no connection to ${host}:${port} within ${timeoutMs} ms`));
          }, timeoutMs)
        : undefined;
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
