import type { Entry, HashAlgorithm } from "@ferry/protocol";
import type { ProgressCallback } from "./progress.js";

export interface ConnectOptions {
  host: string;
  /** Default 2121. */
  port?: number;
  /** The shared secret, when the server requires one. */
  secret?: string;
  /** For a server with accounts: the user to log in as (letters, digits, `.`, `_`, `-`). */
  user?: string;
  /** For a server with accounts: the user's password. Sent to nobody: SCRAM proves it. */
  password?: string;
  /** Time allowed to connect, and to wait for the server while a request is pending. Default 30 s; 0 = none. */
  timeoutMs?: number;
  /** Sent in hello, e.g. "ferry/0.1.0". */
  clientName?: string;
  /**
   * TLS 1.3 (the default, `{}`) and how to trust the server's certificate, or `false` for plain TCP
   * (a server started with --no-tls).
   */
  tls?: false | TlsOptions;
  /** Trust on first use: certificates remembered per host:port, as ssh does. See TlsOptions. */
  knownHosts?: KnownHostsOptions;
  /**
   * Bytes per second for the whole session, each direction on its own (uploads, and downloads with
   * replies). Default: no limit. Memory stays bounded: the session waits before it writes and before
   * it takes in what it read, and the socket's backpressure holds the rest back.
   */
  limitRate?: number;
  /**
   * The hash that verifies every transfer and answers sum and listings: "md5" (the default, every
   * server has it), "sha256" or "xxh128" (fastest). One the server does not offer (its hello lists
   * what it has) is EALG at connect, before anything else: never a silent md5.
   */
  hash?: HashAlgorithm;
  /**
   * Resolve at once, with the hello written but not answered, so the first requests go out behind
   * it: a round trip sooner on a long link. For a server that needs no login. If the answer asks
   * for one (or is EVERSION, EALG, EBUSY), the session fails with that error, `details.early` true,
   * and every request made so far rejects with it: the server did none of them. Connect again
   * without `early`, with the login. `ready` tells when the answer is in. Default false.
   */
  early?: boolean;
}

/**
 * Which certificate to trust, checked right after the handshake and before a byte of the protocol
 * is sent. The first that applies decides:
 * 1. `fingerprint`: only the certificate with this fingerprint.
 * 2. `ca`: a certificate issued by one of these CAs for the host name.
 * 3. `knownHosts`: the fingerprint recorded for host:port; a different one is EHOSTKEY (reason
 *    "changed"). A host with no entry is trusted if its certificate is issued for the host name by a
 *    CA the system trusts, otherwise `onUnknownHost` decides (and the answer yes is recorded).
 * 4. Otherwise: a certificate issued for the host name by a CA the system trusts.
 * Anything else is refused with EHOSTKEY; `details` has `fingerprint`, `reason`
 * ("mismatch" | "changed" | "unknown" | "untrusted") and, for "changed", `expected`,
 * `knownHostsFile` and `line`.
 */
export interface TlsOptions {
  /** `SHA256:` + base64 (as ferryd prints it) or 64 hex digits with or without colons. */
  fingerprint?: string;
  /** CA certificates (PEM) to verify the server's chain against, instead of the system's. */
  ca?: string | Buffer | readonly (string | Buffer)[];
  /** The name the certificate must be issued for (also sent as SNI); default: `host`. */
  servername?: string;
}

export interface KnownHostsOptions {
  /** The known_hosts file (`host:port SHA256:...` lines); created when the first host is recorded. */
  file: string;
  /**
   * Asked about a host with no entry whose certificate no trusted CA vouches for: true trusts it and
   * records it, false refuses (EHOSTKEY, reason "unknown"). Without it such hosts are refused.
   */
  onUnknownHost?: (host: UnknownHost) => boolean | Promise<boolean>;
}

/** A server seen for the first time. */
export interface UnknownHost {
  host: string;
  port: number;
  /** `SHA256:...` */
  fingerprint: string;
  /** The same digest as `AB:CD:...` hex. */
  fingerprintHex: string;
  knownHostsFile: string;
}

/** How the certificate of a connected server was trusted. */
export type TrustedBy = "pin" | "ca" | "known-hosts" | "accepted";

export interface TlsInfo {
  fingerprint: string;
  trustedBy: TrustedBy;
  /** "TLSv1.3" */
  protocol: string;
  cipher: string;
}

export interface TransferOptions {
  /** put: replace the remote file; get: replace the local file. Default false: EEXIST. */
  overwrite?: boolean;
  /** Default true: continue a partial upload/download after its prefix md5 matched. */
  resume?: boolean;
  /** put: create missing remote parent directories. */
  parents?: boolean;
  /**
   * put, with `overwrite`: when the remote file is shorter than the local one (say, left by an
   * interrupted copy of another tool), continue after its bytes if they are this file's prefix
   * (checked by md5, as any resume); otherwise the whole file is sent. The target stays as it was
   * until the verified commit.
   */
  resumeTarget?: boolean;
  /**
   * Abort: the call rejects with EABORTED and the partial stays resumable. A transfer still waiting
   * its turn is simply dropped; one already on the wire breaks the connection (reconnect to continue).
   */
  signal?: AbortSignal;
  /** Called at most about every 100 ms, once when data starts and once at the end. */
  onProgress?: ProgressCallback;
  /**
   * Keep the source's modification time (sftp's -p): a put asks the server to give the file the
   * local file's mtime; a get gives the local file the server's. Default false.
   */
  preserve?: boolean;
}

export interface TransferResult {
  local: string;
  remote: string;
  /** Size of the whole file. */
  size: number;
  /** The algorithm of `hash`: the session's (ConnectOptions.hash). */
  alg: HashAlgorithm;
  /** The hash of the whole file, checked against the other side's. */
  hash: string;
  /** The same as `hash` when `alg` is md5, and absent otherwise: an md5 is never another algorithm's value. */
  md5?: string;
  /** Bytes moved over the wire by this call. */
  transferred: number;
  /** Bytes that were already on the receiving side and were not sent again. */
  resumedFrom: number;
  /** Seconds from the first data byte to the verified end. */
  seconds: number;
  /** The source's modification time (ms since the epoch): the local file's for a put, the server's for a get. */
  mtime: number;
}

/** What `sum` answers: the hash of a remote file and the size and mtime of the version hashed. */
export interface SumResult {
  path: string;
  size: number;
  /** Milliseconds since the epoch. */
  mtime: number;
  alg: HashAlgorithm;
  hash: string;
  /** `hash` when `alg` is md5; absent otherwise. */
  md5?: string;
}

/** What `df` reports, in bytes (and files for the quota). Quota fields are absent without a quota. */
export interface DiskUsage {
  /**
   * Bytes uploads may still use on the served disk (less what uploads in progress hold); absent,
   * like `total`, where the store cannot tell (an object store).
   */
  free?: number;
  total?: number;
  quotaBytes?: number;
  usedBytes?: number;
  quotaFiles?: number;
  usedFiles?: number;
}

export interface ServerInfo {
  name: string;
  version: number;
  auth: boolean;
  /** The account this session is logged in as; null without accounts. */
  user: string | null;
  /** The TLS session; null over plain TCP. */
  tls: TlsInfo | null;
  /** The hash algorithms the server offers (its hello; md5 alone for a server that does not say). */
  hashes: HashAlgorithm[];
  /** The one this session verifies with (ConnectOptions.hash). */
  hash: HashAlgorithm;
}

/**
 * A connected, ready session. Calls may overlap: they are pipelined on the one connection, sent in
 * call order and answered in call order. After a connection error or an abort of a transfer that was
 * on the wire, every call rejects with ECONNLOST; connect again (transfers resume).
 */
export interface FerrySession {
  /**
   * What the server's hello said. In an early session (ConnectOptions.early) until `ready`
   * resolves: what was asked for (`hash`, `tls`), `name` "", `auth` false, `user` null.
   */
  readonly server: ServerInfo;
  /** Resolves with `server` once the hello is answered and checked; rejects with why the session failed then. */
  readonly ready: Promise<ServerInfo>;
  put(localPath: string, remotePath: string, opts?: TransferOptions): Promise<TransferResult>;
  get(remotePath: string, localPath: string, opts?: TransferOptions): Promise<TransferResult>;
  list(path: string): Promise<Entry[]>;
  /**
   * The md5 of a remote file, without downloading it: the server answers from its cache or hashes
   * the file (ECHANGED if it changed meanwhile). Pipelined like every call.
   */
  sum(path: string): Promise<SumResult>;
  /**
   * The entries of a listing as they arrive, for very large directories. Iterate it once (breaking
   * out early is fine). Names are as the server sent them: check them with isSafeRemoteName /
   * resolveLocalTarget before using them locally, and print them through printable().
   */
  listStream(path: string): AsyncIterable<Entry>;
  stat(path: string): Promise<Entry>;
  mkdir(path: string, opts?: { parents?: boolean }): Promise<void>;
  delete(path: string, opts?: { recursive?: boolean }): Promise<void>;
  rename(from: string, to: string, opts?: { overwrite?: boolean }): Promise<void>;
  /** The server's free and total disk space, and the user's quota where the server keeps one. */
  df(): Promise<DiskUsage>;
  /**
   * Sends bye after the calls already made, then closes the socket. Idempotent. By default it waits
   * for the server's answer to bye; `wait: false` (a process about to exit, every call already
   * answered) only waits until bye is written and the connection ended on our side, a round trip less.
   */
  close(options?: { wait?: boolean }): Promise<void>;
  /** True once the connection is closed or broken. */
  readonly closed: boolean;
}
