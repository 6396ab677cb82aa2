import { availableParallelism } from "node:os";
import { DEFAULT_MAX_HEADER_BYTES, DEFAULT_PORT, MAX_SIZE } from "@ferry/protocol";
import { AUTH_BACKOFF_BASE_MS, AUTH_BACKOFF_MAX_MS } from "./auth.js";
import type { Logger } from "./log.js";
import { silentLogger } from "./log.js";

/** Everything `startServer` accepts; `root` or `users` is required. Times are in milliseconds. */
export interface ServerOptions {
  /**
   * The one tree served (without `users`): a directory (a plain path or `file:PATH`), or another
   * backend's address (see storage/open.ts). `storage` is the same option under the CLI's name.
   */
  root?: string;
  storage?: string;
  /**
   * A users file (see accounts/users-file.ts): clients log in with SCRAM-SHA-256 as one of its
   * users, each confined to their own root. Exclusive with `root` and `secret`.
   */
  users?: string;
  /** Reload the users file when it changes, besides on `reload()` (SIGHUP). Default true. */
  watchUsers?: boolean;
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
  /** TCP port; 0 picks a free one. Default 2121. */
  port?: number;
  /** Shared secret: clients must answer an HMAC-SHA256 challenge. No secret, no auth. */
  secret?: string;
  /** Default 256. */
  maxConnections?: number;
  /** Default 32. */
  maxPerIp?: number;
  /** Close a connection after this long without a byte in either direction. Default 300_000. */
  idleTimeoutMs?: number;
  /** A header must arrive whole this long after its first byte. Default 30_000. */
  headerTimeoutMs?: number;
  /** Default 65536. */
  maxHeaderBytes?: number;
  /** Largest file a put may declare. Default: no limit (2^53−1). */
  maxFileSize?: number;
  /**
   * Bytes per second each connection may move in each direction (its uploads, and separately its
   * downloads and replies). Default: no limit (0). Memory stays bounded: a limited connection waits
   * before it writes and before it takes in what it read, so the socket's backpressure does the rest.
   */
  maxRate?: number;
  /**
   * Bytes that all listings in progress may hold for names, together (a sorted listing holds every
   * name of its directory before its first entry goes out). A listing that would go over gets EBUSY,
   * or ETOOBIG if it could not fit alone. Default 64 MiB.
   */
  maxListMemory?: number;
  /** A directory with more entries than this is not listed (ETOOBIG). Default 1,000,000. */
  maxListEntries?: number;
  /** Every write (put, mkdir, delete, rename) gets EACCES. */
  readOnly?: boolean;
  /** fsync file and directory before a put is acknowledged. Default true. */
  fsync?: boolean;
  /**
   * Hash transfers of 32 MiB and more on a worker thread. Default: only when the machine has more
   * than 2 CPUs. On 2 cores (measured on the bench VMs) the worker competes with the I/O thread and
   * a local client for the same cores and only adds copies, messages and ~10-15 MB of memory.
   */
  hashThread?: boolean;
  /** On close, how long running transfers may go on. Default 10_000. */
  graceMs?: number;
  /** Interrupted uploads older than this are removed. Default 24 h. */
  stalePartialMs?: number;
  /**
   * After the second failed auth in a row from one address, none of its auths is checked (they get
   * EBUSY) for this long, doubling with each further failure. Default 100.
   */
  authBackoffMs?: number;
  /** The longest such backoff: at most one guess per this long from one address. Default 5_000. */
  authBackoffMaxMs?: number;
  /** Allow a non-loopback host without a secret. */
  insecureNoAuth?: boolean;
  /**
   * TLS 1.3 (the default) with a certificate given here or generated in the state directory, or
   * `false` for plain TCP, which a non-loopback host refuses unless `insecurePlain` is set.
   */
  tls?: false | TlsServerOptions;
  /** Allow `tls: false` on a non-loopback host: everything, the secret's challenge included, in the clear. */
  insecurePlain?: boolean;
  /** Default: silent. */
  logger?: Logger;
}

export type ResolvedOptions = Required<Omit<ServerOptions, "secret" | "root" | "storage" | "users">> & {
  secret: string | undefined;
  root: string | undefined;
  users: string | undefined;
};
export interface TlsServerOptions {
  /** Files of a certificate (PEM, then any intermediates) and its private key, e.g. CA-issued. */
  certFile?: string;
  keyFile?: string;
  /** The same as PEM text. Both or neither, and not together with the files. */
  cert?: string;
  key?: string;
  /**
   * Without cert/key: where the self-signed certificate is created on first start and reused after.
   * Default `$XDG_STATE_HOME/ferryd` or `~/.local/state/ferryd`. Never inside the root.
   */
  stateDir?: string;
}

export const DEFAULTS = {
  host: "127.0.0.1",
  port: DEFAULT_PORT,
  maxConnections: 256,
  maxPerIp: 32,
  idleTimeoutMs: 300_000,
  headerTimeoutMs: 30_000,
  maxHeaderBytes: DEFAULT_MAX_HEADER_BYTES,
  maxListMemory: 64 * 1024 * 1024,
  maxListEntries: 1_000_000,
  graceMs: 10_000,
  stalePartialMs: 24 * 3600_000,
  authBackoffMs: AUTH_BACKOFF_BASE_MS,
  authBackoffMaxMs: AUTH_BACKOFF_MAX_MS,
} as const;

export function resolveOptions(o: ServerOptions): ResolvedOptions {
  return {
    root: o.storage ?? o.root,
    users: o.users,
    watchUsers: o.watchUsers ?? true,
    host: o.host ?? DEFAULTS.host,
    port: o.port ?? DEFAULTS.port,
    secret: o.secret === "" ? undefined : o.secret,
    maxConnections: o.maxConnections ?? DEFAULTS.maxConnections,
    maxPerIp: o.maxPerIp ?? DEFAULTS.maxPerIp,
    idleTimeoutMs: o.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs,
    headerTimeoutMs: o.headerTimeoutMs ?? DEFAULTS.headerTimeoutMs,
    maxHeaderBytes: o.maxHeaderBytes ?? DEFAULTS.maxHeaderBytes,
    maxFileSize: o.maxFileSize ?? MAX_SIZE,
    maxRate: o.maxRate ?? 0,
    maxListMemory: o.maxListMemory ?? DEFAULTS.maxListMemory,
    maxListEntries: o.maxListEntries ?? DEFAULTS.maxListEntries,
    readOnly: o.readOnly ?? false,
    fsync: o.fsync ?? true,
    hashThread: o.hashThread ?? availableParallelism() > 2,
    graceMs: o.graceMs ?? DEFAULTS.graceMs,
    stalePartialMs: o.stalePartialMs ?? DEFAULTS.stalePartialMs,
    authBackoffMs: o.authBackoffMs ?? DEFAULTS.authBackoffMs,
    authBackoffMaxMs: o.authBackoffMaxMs ?? DEFAULTS.authBackoffMaxMs,
    insecureNoAuth: o.insecureNoAuth ?? false,
    tls: o.tls ?? {},
    insecurePlain: o.insecurePlain ?? false,
    logger: o.logger ?? silentLogger,
  };
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
