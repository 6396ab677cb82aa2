import type { Frame } from "@ferry/protocol";
import type { Accounts } from "./accounts/accounts.js";
import type { AuthBackoff } from "./auth.js";
import type { ResolvedOptions } from "./options.js";
import type { Storages } from "./storage/open.js";
import type { LentChunk, QuotaLimits, Storage } from "./storage/storage.js";

/** What every connection of one server shares. */
export interface ServerContext {
  readonly options: ResolvedOptions;
  /** The served roots, opened on first use and shared by the users of each. */
  readonly storages: Storages;
  /** Without accounts: the one root every session is confined to. */
  readonly defaultStorage: Storage | null;
  /** With `users`: the accounts of the users file (null: shared-secret or no auth). */
  readonly accounts: Accounts | null;
  /** Failed logins per client address. */
  readonly backoff: AuthBackoff;
  /** Failed logins per user name (known or not: the same for both, so it tells nothing). */
  readonly userBackoff: AuthBackoff;
}

/** Who a session logged in as and what it may do there; fixed at login for the session's life. */
export interface Access {
  /** The account; null without accounts. */
  readonly user: string | null;
  /** Server-wide read-only, or the user's. */
  readonly readOnly: boolean;
  /** The user's limits on their root; null: none. */
  readonly quota: QuotaLimits | null;
}

/** A finished transfer, for the log line. */
export interface TransferRecord {
  cmd: "put" | "get";
  path: string;
  /** Bytes moved over the wire (a resumed transfer moves fewer than `size`). */
  bytes: number;
  size: number;
  offset: number;
  seconds: number;
  /** "ok" or an error code. */
  result: string;
}

/**
 * What a command may do with its connection: send frames (always whole, with backpressure) and, for
 * put, read the frames that carry its payload. Commands throw FerryError before they send anything;
 * the session turns that into an error reply.
 */
export interface SessionIO {
  readonly server: ServerContext;
  /** The root this session is confined to (the user's, once logged in). */
  readonly storage: Storage;
  readonly access: Access;
  readonly addr: string;
  send(header: object): Promise<void>;
  /**
   * Sends a data frame whose payload is `chunks` (a file's lent blocks, `header.size` bytes in all),
   * each block shown to `onChunk` first (a running hash); see sendChunks.
   */
  sendData(
    header: { cmd: "data"; id: number; offset: number; size: number },
    chunks: AsyncIterable<LentChunk>,
    onChunk?: (chunk: Buffer) => void | Promise<void>,
  ): Promise<void>;
  /**
   * Writes frames already encoded (headers and payloads, in order) as one batch, so a small file's
   * reply, data frame and payload leave in one system call; waits while the peer is not reading.
   */
  sendEncoded(parts: readonly Uint8Array[]): Promise<void>;
  /** The next frame from the client, or null when it closed cleanly between frames. */
  nextFrame(): Promise<Frame | null>;
  /** Hands a frame a command read but does not own back to the session, to be handled next. */
  unread(frame: Frame): void;
  /** Notes a transfer for the log. */
  transfer(record: TransferRecord): void;
}
