import { once } from "node:events";
import net from "node:net";
import { encodeFrame, errorReplyOf, FerryError } from "@ferry/protocol";
import { AuthBackoff } from "./auth.js";
import type { ServerContext } from "./context.js";
import type { LogLevel } from "./log.js";
import { isLoopback, resolveOptions, type ServerOptions } from "./options.js";
import { Session } from "./session.js";
import { ChecksumCache } from "./storage/checksums.js";
import { DirHandles } from "./storage/dir-handles.js";
import { FreeSpace } from "./storage/free-space.js";
import { ListBudget } from "./storage/list-budget.js";
import { openRoot } from "./storage/root.js";
import { Sandbox } from "./storage/sandbox.js";
import { Staging } from "./storage/staging.js";
import { WriteBudget } from "./storage/write-budget.js";

/** A running ferryd. */
export interface FerryServer {
  readonly host: string;
  /** The real port (useful with port 0). */
  readonly port: number;
  /** The real path of the served root. */
  readonly root: string;
  /**
   * Graceful stop: no new connections, idle ones close at once, transfers in progress get up to
   * `graceMs` to finish; any cut off after that is kept as a resumable partial.
   */
  close(): Promise<void>;
}

/** A refused connection gets its error frame, then this long to read it before it is cut. */
const REFUSE_LINGER_MS = 1_000;

/** Starts a server. Rejects with a FerryError on an unusable root or an unsafe host/secret combination. */
export async function startServer(options: ServerOptions): Promise<FerryServer> {
  const opts = resolveOptions(options);
  if (!isLoopback(opts.host) && opts.secret === undefined && !opts.insecureNoAuth) {
    throw new FerryError(
      "EAUTH",
      `refusing to serve ${opts.host} without a secret (anyone on the network could write); set a secret or pass --insecure-no-auth`,
    );
  }
  const root = await openRoot(opts.root, opts.readOnly);
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
    listBudget: new ListBudget(opts.maxListMemory),
    staging,
    checksums: new ChecksumCache(),
    backoff: new AuthBackoff({ baseMs: opts.authBackoffMs, maxMs: opts.authBackoffMaxMs }),
  };
  const log = (level: LogLevel, msg: string, fields?: Record<string, unknown>) =>
    opts.logger.log(level, msg, fields);

  const sessions = new Map<Session, Promise<void>>();
  const perIp = new Map<string, number>();
  let closing: Promise<void> | null = null;

  const sockets = new Set<net.Socket>();
  // Half-open: a client that sends its last requests and then FIN still gets every answer. The session
  // reads ahead of its answers (pipeline), so the default auto-end on EOF would cut them off.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    const ip = socket.remoteAddress ?? "?";
    const addr = `${ip}:${socket.remotePort}`;
    if (closing) {
      socket.destroy();
      return;
    }
    const mine = perIp.get(ip) ?? 0;
    if (sessions.size >= opts.maxConnections || mine >= opts.maxPerIp) {
      const which =
        sessions.size >= opts.maxConnections
          ? `${opts.maxConnections} connections`
          : `${opts.maxPerIp} connections per address`;
      log("warn", "refused", { addr, reason: `limit of ${which}` });
      refuse(socket, new FerryError("EBUSY", `the server is at its limit of ${which}; try again later`));
      return;
    }
    perIp.set(ip, mine + 1);
    log("info", "connect", { addr });
    const session = new Session(socket, ctx, log);
    const done = session.run().finally(() => {
      sessions.delete(session);
      const left = (perIp.get(ip) ?? 1) - 1;
      if (left > 0) perIp.set(ip, left);
      else perIp.delete(ip);
    });
    sessions.set(session, done);
  });

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
  log("info", "listening", { host: opts.host, port: address.port, root, auth: opts.secret !== undefined });

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
    for (const session of sessions.keys()) session.shutdown();
    const all = () => Promise.all([...sessions.values()]).then(() => {});
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, opts.graceMs);
    });
    await Promise.race([all(), grace]);
    clearTimeout(timer);
    for (const session of sessions.keys()) session.destroy();
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
    close() {
      closing ??= shutdown();
      return closing;
    },
  };
}

function refuse(socket: net.Socket, err: FerryError): void {
  socket.on("error", () => {});
  socket.end(encodeFrame(errorReplyOf(null, err)));
  // Read and drop whatever the client sends meanwhile (its hello), so closing does not reset the
  // connection before the client has read why.
  socket.resume();
  setTimeout(() => socket.destroy(), REFUSE_LINGER_MS).unref();
}
