import type { Entry } from "@ferry/protocol";
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
}

export interface TransferResult {
  local: string;
  remote: string;
  /** Size of the whole file. */
  size: number;
  /** md5 of the whole file, checked against the other side's. */
  md5: string;
  /** Bytes moved over the wire by this call. */
  transferred: number;
  /** Bytes that were already on the receiving side and were not sent again. */
  resumedFrom: number;
  /** Seconds from the first data byte to the verified end. */
  seconds: number;
}

/** What `df` reports, in bytes (and files for the quota). Quota fields are absent without a quota. */
export interface DiskUsage {
  /** Bytes uploads may still use on the served disk (less what uploads in progress hold). */
  free: number;
  total: number;
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
}

/**
 * A connected, ready session. Calls may overlap: they are pipelined on the one connection, sent in
 * call order and answered in call order. After a connection error or an abort of a transfer that was
 * on the wire, every call rejects with ECONNLOST; connect again (transfers resume).
 */
export interface FerrySession {
  readonly server: ServerInfo;
  put(localPath: string, remotePath: string, opts?: TransferOptions): Promise<TransferResult>;
  get(remotePath: string, localPath: string, opts?: TransferOptions): Promise<TransferResult>;
  list(path: string): Promise<Entry[]>;
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
  /** Sends bye after the calls already made, then closes the socket. Idempotent. */
  close(): Promise<void>;
  /** True once the connection is closed or broken. */
  readonly closed: boolean;
}
