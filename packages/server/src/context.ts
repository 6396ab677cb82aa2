import type { FileHandle } from "node:fs/promises";
import type { Frame } from "@ferry/protocol";
import type { AuthBackoff } from "./auth.js";
import type { ResolvedOptions } from "./options.js";
import type { ChecksumCache } from "./storage/checksums.js";
import type { DirHandles } from "./storage/dir-handles.js";
import type { FreeSpace } from "./storage/free-space.js";
import type { ListBudget } from "./storage/list-budget.js";
import type { Sandbox } from "./storage/sandbox.js";
import type { Staging } from "./storage/staging.js";
import type { WriteBudget } from "./storage/write-budget.js";

/** What every connection of one server shares. */
export interface ServerContext {
  readonly options: ResolvedOptions;
  readonly sandbox: Sandbox;
  readonly staging: Staging;
  readonly checksums: ChecksumCache;
  /** Directories puts write into, held open briefly (see DirHandles). */
  readonly dirs: DirHandles;
  readonly space: FreeSpace;
  readonly writeBudget: WriteBudget;
  /** Memory the names of listings in progress may take, together. */
  readonly listBudget: ListBudget;
  readonly backoff: AuthBackoff;
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
  readonly addr: string;
  send(header: object): Promise<void>;
  /**
   * Sends a data frame whose payload is bytes [start, end) of an open file, each 1 MiB block shown
   * to `onChunk` first (a running hash); see sendFileRange.
   */
  sendFile(
    header: { cmd: "data"; id: number; offset: number; size: number },
    fh: FileHandle,
    start: number,
    end: number,
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
