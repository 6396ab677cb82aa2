import { once } from "node:events";
import { watch } from "node:fs";
import { realpath } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { createSecureContext } from "node:tls";
import { FerryError, SOCKET_HIGH_WATER_MARK } from "@ferry/protocol";
import { Accounts, type ReloadResult } from "./accounts/accounts.js";
import { AuthBackoff } from "./auth.js";
import type { ServerContext } from "./context.js";
import type { LogLevel } from "./log.js";
import { isLoopback, resolveOptions, type ServerOptions } from "./options.js";
import { Session } from "./session.js";
import { localPathOf, Storages, storageConfigOf } from "./storage/open.js";
import { resolveIdentity } from "./tls/identity.js";
import { establish, type NoSession, refuse, type Transport } from "./tls/transport.js";

/** A running ferryd. */
export interface FerryServer {
  readonly host: string;
  /** The real port (useful with port 0). */
  readonly port: number;
  /** The real path of the served root; "" with accounts (each user has their own root). */
  readonly root: string;
  /** `SHA256:...` of the TLS certificate clients see; null when serving plain TCP. */
  readonly fingerprint: string | null;
  /** The certificate file (generated in the state directory or given); null for plain TCP or PEM text. */
  readonly certFile: string | null;
  /** True when this start generated the certificate. */
  readonly certCreated: boolean;
  /**
   * Reads the users file again (SIGHUP does this): new logins see the new accounts, open sessions go
   * on as they logged in, and quota usage is counted again. A file that cannot be read or parsed
   * leaves the accounts as they were. Without accounts it does nothing.
   */
  reload(): Promise<ReloadResult>;
  /**
   * Graceful stop: no new connections, idle ones close at once, transfers in progress get up to
   * `graceMs` to finish; any cut off after that is kept as a resumable partial.
   */
  close(): Promise<void>;
}

/** A refused connection gets its error frame, then this long to read it before it is cut. */
const REFUSE_LINGER_MS = 1_000;
/** Changes to the users file within this long make one reload (an editor writes in several steps). */
const USERS_WATCH_SETTLE_MS = 200;
/** A connection refused at the limit still needs a TLS handshake to read why; it gets this long. */
const REFUSE_HANDSHAKE_MS = 5_000;
/** Refused connections in their handshake at once; past this they are cut without a word. */
const MAX_REFUSING = 64;

/** One accepted connection: in its handshake (session null) or serving. */
interface Slot {
  session: Session | null;
  abort(): void;
  done: Promise<void>;
}

/** Starts a server. Rejects with a FerryError on an unusable root or an unsafe host/secret combination. */
export async function startServer(options: ServerOptions): Promise<FerryServer> {
  const opts = resolveOptions(options);
  if ((opts.root === undefined) === (opts.users === undefined)) {
    throw new FerryError(
      "EINTERNAL",
      opts.root === undefined
        ? "give a root to serve, or a users file"
        : "a root and a users file cannot be combined: with accounts each user's root is in the users file",
    );
  }
  if (opts.users !== undefined && opts.secret !== undefined) {
    throw new FerryError(
      "EAUTH",
      "a shared secret and a users file cannot be combined: choose one way to log in",
    );
  }
  if (
    !isLoopback(opts.host) &&
    opts.secret === undefined &&
    opts.users === undefined &&
    !opts.insecureNoAuth
  ) {
    throw new FerryError(
      "EAUTH",
      `refusing to serve ${opts.host} without a secret (anyone on the network could write); set a secret or pass --insecure-no-auth`,
    );
  }
  if (opts.tls === false && !isLoopback(opts.host) && !opts.insecurePlain) {
    throw new FerryError(
      "ETLS",
      `refusing to serve ${opts.host} in plain TCP (anyone on the path could read and change every byte); drop --no-tls or pass --insecure-plain`,
    );
  }
  // Before the root is opened (which makes its staging folder): a key inside the root is refused
  // without writing anything there. With accounts the key's place is checked against no root: each
  // user's root is the admin's to keep apart from the state directory.
  const rootPath = opts.root === undefined ? null : localPathOf(opts.root);
  const rootReal = rootPath === null ? null : await realpath(rootPath).catch(() => path.resolve(rootPath));
  const identity = opts.tls === false ? null : await resolveIdentity(opts.tls, rootReal);
  const accounts = opts.users === undefined ? null : await Accounts.load(opts.users);
  const storages = new Storages(storageConfigOf(opts));
  const defaultStorage = opts.root === undefined ? null : await storages.open(opts.root, !opts.readOnly);
  const transport: Transport = identity
    ? {
        kind: "tls",
        context: createSecureContext({ cert: identity.cert, key: identity.key, minVersion: "TLSv1.3" }),
      }
    : { kind: "plain" };
  const ctx: ServerContext = {
    options: opts,
    storages,
    defaultStorage,
    accounts,
    backoff: new AuthBackoff({ baseMs: opts.authBackoffMs, maxMs: opts.authBackoffMaxMs }),
    userBackoff: new AuthBackoff({ baseMs: opts.authBackoffMs, maxMs: opts.authBackoffMaxMs }),
  };
  const log = (level: LogLevel, msg: string, fields?: Record<string, unknown>) =>
    opts.logger.log(level, msg, fields);

  const slots = new Set<Slot>();
  const perIp = new Map<string, number>();
  let refusing = 0;
  let closing: Promise<void> | null = null;
  const handshake = {
    deadlineMs: opts.headerTimeoutMs,
    idleMs: opts.idleTimeoutMs,
    lingerMs: REFUSE_LINGER_MS,
  };

  const sockets = new Set<net.Socket>();
  // Half-open: a client that sends its last requests and then FIN still gets every answer. The session
  // reads ahead of its answers (pipeline), so the default auto-end on EOF would cut them off.
  const server = net.createServer({ allowHalfOpen: true, highWaterMark: SOCKET_HIGH_WATER_MARK }, (raw) => {
    sockets.add(raw);
    raw.once("close", () => sockets.delete(raw));
    const ip = raw.remoteAddress ?? "?";
    const addr = `${ip}:${raw.remotePort}`;
    if (closing) {
      raw.destroy();
      return;
    }
    const mine = perIp.get(ip) ?? 0;
    if (slots.size >= opts.maxConnections || mine >= opts.maxPerIp) {
      const which =
        slots.size >= opts.maxConnections
          ? `${opts.maxConnections} connections`
          : `${opts.maxPerIp} connections per address`;
      log("warn", "refused", { addr, reason: `limit of ${which}` });
      refuseAtLimit(raw, `the server is at its limit of ${which}; try again later`);
      return;
    }
    perIp.set(ip, mine + 1);
    log("info", "connect", { addr });
    const pending = establish(raw, transport, handshake);
    const slot: Slot = {
      session: null,
      abort: pending.abort,
      done: pending.done
        .then(async (socket) => {
          if (isNoSession(socket)) {
            log(socket.mismatch ? "warn" : "info", "disconnect", { addr, reason: socket.reason });
            return;
          }
          if (socket !== raw) {
            // From here on the TLS socket carries the session; it is what shutdown must let drain.
            sockets.delete(raw);
            sockets.add(socket);
            socket.once("close", () => sockets.delete(socket));
          }
          const session = new Session(socket, ctx, log);
          slot.session = session;
          if (closing) session.shutdown();
          await session.run();
        })
        .finally(() => {
          slots.delete(slot);
          const left = (perIp.get(ip) ?? 1) - 1;
          if (left > 0) perIp.set(ip, left);
          else perIp.delete(ip);
        }),
    };
    slots.add(slot);
  });

  /** The error frame for a connection over the limit, inside TLS when the listener speaks it. */
  function refuseAtLimit(raw: net.Socket, message: string): void {
    if (transport.kind === "plain") {
      refuse(raw, "EBUSY", message, handshake);
      return;
    }
    if (refusing >= MAX_REFUSING) {
      raw.destroy();
      return;
    }
    refusing++;
    const quick = { ...handshake, deadlineMs: Math.min(handshake.deadlineMs, REFUSE_HANDSHAKE_MS) };
    void establish(raw, transport, quick).done.then((socket) => {
      refusing--;
      if (!isNoSession(socket)) refuse(socket, "EBUSY", message, handshake);
    });
  }

  server.listen({ host: opts.host, port: opts.port });
  // once() rejects with the "error" event's error: the only road a failed listen takes.
  await once(server, "listening").catch((err: unknown) => {
    throw listenError(err, opts.host, opts.port);
  });
  const address = server.address() as net.AddressInfo;
  const auth = accounts ? "scram-sha-256" : opts.secret !== undefined ? "secret" : "none";
  log("info", "listening", {
    host: opts.host,
    port: address.port,
    ...(defaultStorage ? { root: defaultStorage.location } : { users: opts.users, accounts: accounts?.size }),
    auth,
    mode: opts.readOnly ? "read-only" : "read-write",
    tls: identity !== null,
    fingerprint: identity?.fingerprint,
    cert: identity?.certFile,
    certCreated: identity?.created,
  });

  const sweep = opts.readOnly
    ? null
    : setInterval(
        () => {
          for (const storage of storages.all) void storage.sweep(opts.stalePartialMs).catch(() => {});
        },
        Math.min(3600_000, Math.max(1000, opts.stalePartialMs / 4)),
      );
  sweep?.unref();

  let reloading: Promise<ReloadResult> | null = null;
  async function reload(): Promise<ReloadResult> {
    if (!accounts) return { ok: true, users: 0 };
    // One at a time: a reload asked for while one runs waits for it, then reads the file again.
    const previous = reloading ?? Promise.resolve(null);
    const next = previous.then(async () => {
      const result = await accounts.reload();
      if (result.ok) {
        log("info", "users reloaded", { users: result.users });
        for (const storage of storages.all) {
          void storage
            .recount()
            .catch((err: unknown) =>
              log("warn", "usage not counted", { root: storage.location, reason: (err as Error).message }),
            );
        }
      } else {
        log("warn", "users file not reloaded, the accounts in use are kept", { reason: result.reason });
      }
      return result;
    });
    reloading = next;
    return next;
  }
  const watcher =
    accounts && opts.watchUsers ? watchUsersFile(accounts.file, () => void reload(), log) : null;

  async function shutdown(): Promise<void> {
    watcher?.close();
    if (sweep) clearInterval(sweep);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const slot of slots) {
      if (slot.session) slot.session.shutdown();
      else slot.abort();
    }
    const all = () => Promise.all([...slots].map((slot) => slot.done)).then(() => {});
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, opts.graceMs);
    });
    await Promise.race([all(), grace]);
    clearTimeout(timer);
    for (const slot of slots) slot.session?.destroy();
    await all();
    await storages.closeAll();
    // Sessions are over; sockets still lingering for a peer to read a last frame can go once flushed.
    for (const socket of sockets) if (socket.writableLength === 0) socket.destroy();
    await closed;
    log("info", "closed", {});
  }

  return {
    host: opts.host,
    port: address.port,
    root: defaultStorage?.location ?? "",
    fingerprint: identity?.fingerprint ?? null,
    certFile: identity?.certFile ?? null,
    certCreated: identity?.created ?? false,
    reload,
    close() {
      closing ??= shutdown();
      return closing;
    },
  };
}

/**
 * Calls `onChange` once the users file has been replaced or changed and then left alone for a
 * moment. The directory is watched, not the file: `ferryd user` replaces the file by a rename, which
 * a watch on the old inode would never see.
 */
function watchUsersFile(
  file: string,
  onChange: () => void,
  log: (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void,
): { close(): void } | null {
  const name = path.basename(file);
  let timer: NodeJS.Timeout | undefined;
  try {
    const watcher = watch(path.dirname(path.resolve(file)), { persistent: false }, (_event, changed) => {
      if (changed !== null && changed.toString() !== name) return;
      clearTimeout(timer);
      timer = setTimeout(onChange, USERS_WATCH_SETTLE_MS);
    });
    watcher.on("error", (err) => log("warn", "users file no longer watched", { reason: err.message }));
    return {
      close() {
        clearTimeout(timer);
        watcher.close();
      },
    };
  } catch (err) {
    log("warn", "users file not watched: reload with SIGHUP", { reason: (err as Error).message });
    return null;
  }
}

function isNoSession(value: net.Socket | NoSession): value is NoSession {
  return !(value instanceof net.Socket);
}

/** A failed listen in words that say what to do, instead of Node's `listen EADDRINUSE: ...`. */
function listenError(err: unknown, host: string, port: number): FerryError {
  const errno = (err as NodeJS.ErrnoException | null)?.code;
  const where = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  const reason =
    errno === "EADDRINUSE"
      ? `${where} is already in use (another ferryd?); stop it or choose another --port`
      : errno === "EADDRNOTAVAIL"
        ? `${host} is not an address of this machine; check --host`
        : errno === "EACCES"
          ? `port ${port} needs privileges; choose a port above 1023 with --port`
          : `cannot listen on ${where}: ${errno ?? (err as Error)?.message ?? String(err)}`;
  return new FerryError("EINTERNAL", reason, { errno }, { cause: err });
}
