import { once } from "node:events";
import net from "node:net";
import { createSecureContext } from "node:tls";
import { FerryError } from "@ferry/protocol";
import { AuthBackoff } from "./auth.js";
import type { ServerContext } from "./context.js";
import type { LogLevel } from "./log.js";
import { isLoopback, resolveOptions, type ServerOptions } from "./options.js";
import { Session } from "./session.js";
import { ChecksumCache } from "./storage/checksums.js";
import { DirHandles } from "./storage/dir-handles.js";
import { FreeSpace } from "./storage/free-space.js";
import { openRoot } from "./storage/root.js";
import { Sandbox } from "./storage/sandbox.js";
import { Staging } from "./storage/staging.js";
import { WriteBudget } from "./storage/write-budget.js";
import { resolveIdentity } from "./tls/identity.js";
import { establish, type NoSession, refuse, type Transport } from "./tls/transport.js";

/** A running ferryd. */
export interface FerryServer {
  readonly host: string;
  /** The real port (useful with port 0). */
  readonly port: number;
  /** The real path of the served root. */
  readonly root: string;
  /** `SHA256:...` of the TLS certificate clients see; null when serving plain TCP. */
  readonly fingerprint: string | null;
  /** The certificate file (generated in the state directory or given); null for plain TCP or PEM text. */
  readonly certFile: string | null;
  /** True when this start generated the certificate. */
  readonly certCreated: boolean;
  /**
   * Graceful stop: no new connections, idle ones close at once, transfers in progress get up to
   * `graceMs` to finish; any cut off after that is kept as a resumable partial.
   */
  close(): Promise<void>;
}

/** A refused connection gets its error frame, then this long to read it before it is cut. */
const REFUSE_LINGER_MS = 1_000;
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
  if (!isLoopback(opts.host) && opts.secret === undefined && !opts.insecureNoAuth) {
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
  const root = await openRoot(opts.root, opts.readOnly);
  const identity = opts.tls === false ? null : await resolveIdentity(opts.tls, root);
  const transport: Transport = identity
    ? {
        kind: "tls",
        context: createSecureContext({ cert: identity.cert, key: identity.key, minVersion: "TLSv1.3" }),
      }
    : { kind: "plain" };
  const staging = new Staging(root);
  if (!opts.readOnly) {
    await staging.open();
    await staging.adoptOrphans();
    await staging.cleanStale(opts.stalePartialMs);
  }
  const sandbox = new Sandbox(root);
  const dirs = await DirHandles.open(sandbox);
  const ctx: ServerContext = {
    options: opts,
    sandbox,
    dirs,
    space: new FreeSpace(root),
    writeBudget: new WriteBudget(),
    staging,
    checksums: new ChecksumCache(),
    backoff: new AuthBackoff({ baseMs: opts.authBackoffMs, maxMs: opts.authBackoffMaxMs }),
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
  const server = net.createServer({ allowHalfOpen: true }, (raw) => {
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
  await Promise.race([
    once(server, "listening"),
    once(server, "error").then(([err]) => {
      throw new FerryError(
        "EINTERNAL",
        `cannot listen on ${opts.host}:${opts.port}: ${(err as Error).message}`,
      );
    }),
  ]);
  const address = server.address() as net.AddressInfo;
  log("info", "listening", {
    host: opts.host,
    port: address.port,
    root,
    auth: opts.secret !== undefined,
    tls: identity !== null,
    fingerprint: identity?.fingerprint,
    cert: identity?.certFile,
    certCreated: identity?.created,
  });

  const sweep = opts.readOnly
    ? null
    : setInterval(
        () => void staging.cleanStale(opts.stalePartialMs).catch(() => {}),
        Math.min(3600_000, Math.max(1000, opts.stalePartialMs / 4)),
      );
  sweep?.unref();

  async function shutdown(): Promise<void> {
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
    await ctx.dirs.close();
    await staging.close();
    // Sessions are over; sockets still lingering for a peer to read a last frame can go once flushed.
    for (const socket of sockets) if (socket.writableLength === 0) socket.destroy();
    await closed;
    log("info", "closed", {});
  }

  return {
    host: opts.host,
    port: address.port,
    root,
    fingerprint: identity?.fingerprint ?? null,
    certFile: identity?.certFile ?? null,
    certCreated: identity?.created ?? false,
    close() {
      closing ??= shutdown();
      return closing;
    },
  };
}

function isNoSession(value: net.Socket | NoSession): value is NoSession {
  return !(value instanceof net.Socket);
}
