import type { Entry, HashAlgorithm } from "@ferry/protocol";

/**
 * The one road from ferryd's commands to stored files (pyftpdlib's `AbstractedFS`). Commands speak
 * the protocol and call a {@link Storage}; a backend (the local directory tree, an S3 bucket) is the
 * only code that touches what it stores. Everything here is expressed in the protocol's terms, with
 * no file descriptors, `Stats` or staging paths, so that a backend without a file system can
 * implement it.
 *
 * Errors: every operation rejects with a `FerryError` whose code is the protocol's (ENOENT, EEXIST,
 * EISDIR, ENOTDIR, ENOTEMPTY, EACCES, EBADPATH, ENOSPC, EQUOTA, ECHANGED, ESIZE, ETOOBIG, EBUSY,
 * EINTERNAL), its message naming the client's path (never where the backend keeps it), and the
 * backend's own error as its `cause`. Never a raw errno or SDK error: a command passes errors on.
 */

/**
 * A client's path after the pure checks (see `resolvePath`): normalized names below the served root.
 * `..` above the root, NUL, backslashes, empty or over-long names and the reserved staging name are
 * refused before a backend sees a path. Where a name leads once stored links are followed is the
 * backend's business (the local one walks it; an object store has no links).
 */
export interface StoragePath {
  /** The path as the client sent it, for messages and logs. */
  readonly client: string;
  /** Normalized names below the root; empty for the root itself. */
  readonly names: readonly string[];
  /** `names` joined with `/`; "" for the root. */
  readonly rel: string;
  readonly isRoot: boolean;
  /** The client's path ended in "/": it must name a directory (POSIX: `file/` is ENOTDIR). */
  readonly dirOnly: boolean;
}

/**
 * A name as `stat` and `list` report it: the protocol's entry itself (name, type, size for regular
 * files, mtime in whole ms, the hash in the listing's alg when the backend knows it without reading
 * the file: `md5` for md5, `hash` for another, PROTOCOL.md §1.2), since the wire
 * shows exactly what storage knows and a second shape would only need converting.
 */
export type StorageEntry = Entry;

/** A user's limits on one storage; an absent one is unlimited. */
export interface QuotaLimits {
  readonly bytes?: number;
  readonly files?: number;
}

/** The df figures of a storage (see {@link Storage.space}). */
export interface SpaceFigures {
  readonly free?: number;
  readonly total?: number;
  /** What the user's files hold, when a quota is kept for them. */
  readonly used?: { readonly bytes: number; readonly files: number };
}

/** The hash of a whole file in `alg`, with the size and mtime of the version hashed (the `sum` reply). */
export interface FileSum {
  readonly size: number;
  readonly mtime: number;
  readonly alg: HashAlgorithm;
  readonly hash: string;
}

/**
 * A block of a file, lent by the backend: the consumer calls `release()` once it no longer needs the
 * bytes (the socket wrote them, the hash took them), and the backend may then reuse the buffer. So a
 * 1 GiB download cycles through a few buffers instead of allocating a thousand that only a GC frees;
 * a backend whose blocks are fresh anyway (a network body) makes `release` a no-op.
 */
export interface LentChunk {
  readonly bytes: Buffer;
  release(): void;
}

/** Called with a byte count before an operation holds that much in memory; may wait (a pipeline's budget). */
export type ReserveMemory = (bytes: number) => Promise<void>;

/**
 * One version of one regular file, open for reading (get). Reads never mix versions silently: a
 * caller that vouches for the bytes with an md5 calls {@link assertUnchanged} after its last read.
 */
export interface ReadHandle {
  readonly size: number;
  /** Whole milliseconds since the epoch, as the protocol carries it. */
  readonly mtime: number;
  /**
   * What identifies this version of the file (local: inode, size, times; S3: the ETag). Opaque: only
   * compared, never parsed.
   */
  readonly version: string;
  /** The file's hash in `alg` when the backend knows it without reading (a cache, object metadata). */
  knownHash(alg: HashAlgorithm): string | undefined;
  /** The whole file in one fresh buffer, for a file small enough to hold (the caller reserved it). */
  readAll(): Promise<Buffer>;
  /**
   * Bytes [start, end) in order, with bounded read-ahead; waits while the consumer holds every lent
   * block (backpressure). A file that shrinks underneath is ESIZE, one that changes may be ECHANGED.
   */
  read(start: number, end: number): AsyncIterable<LentChunk>;
  /** ECHANGED unless the file is still {@link version}: call after the last read, before sending an md5. */
  assertUnchanged(): Promise<void>;
  /** The hash of this version in `alg`, computed by the caller while sending it, kept for the next request. */
  remember(alg: HashAlgorithm, hash: string): void;
  close(): Promise<void>;
}

/** What a put asks of storage: everything the request says about the file to be. */
export interface UploadSpec {
  readonly path: StoragePath;
  readonly size: number;
  /** The algorithm of `hash`, of {@link Upload.prefixHash} and of {@link Upload.digest}. */
  readonly alg: HashAlgorithm;
  /** The client's hash in `alg` when it sent one up front (a resumable partial must agree with it). */
  readonly hash?: string;
  /** The mtime the file gets (whole ms since the epoch), set before it appears under its name. */
  readonly mtime?: number;
  /** Replace an existing file; without it an existing name is EEXIST (at admission and at commit). */
  readonly overwrite: boolean;
  /** Create missing parent directories. */
  readonly parents: boolean;
  /** Look for a partial of an interrupted upload of the same path and size to continue. */
  readonly resume: boolean;
  /**
   * With `resume` and `overwrite`: when no partial is found, a shorter file under the target name is
   * offered as the partial (an explicit `reput`); the target itself stays whole until the commit.
   */
  readonly resumeTarget?: boolean;
  /** The user's limits; null: none. Free space is always checked. */
  readonly quota: QuotaLimits | null;
}

/**
 * An upload in progress, never visible under its name before {@link commit}. Obtained from
 * {@link Storage.beginUpload}, which did all of admission: the target is checked (EISDIR, EEXIST,
 * ENOTDIR, EBADPATH), room is reserved (ENOSPC, EQUOTA) for the bytes still to come, and with
 * `resume` an earlier partial was claimed, so that two uploads never share bytes.
 *
 * Its life: optionally {@link restart}; {@link write} every byte (from {@link received} on);
 * {@link digest}; then either {@link stage} → {@link commit} → {@link sync}, or {@link abort}.
 * `abort` is a no-op after a commit, so every road may end with it.
 */
export interface Upload {
  /**
   * Bytes already held from an interrupted upload (0 for a fresh one): the resume point the server
   * offers. Back to 0 after {@link restart}.
   */
  readonly received: number;
  /** The hash (spec's alg) of the first {@link received} bytes, for the client to compare with its prefix. */
  prefixHash(): Promise<string>;
  /** The client chose to start over: the held bytes are dropped and writing starts at 0. */
  restart(): Promise<void>;
  /**
   * The next bytes of the file, hashed on the way. Resolves when the upload can take more
   * (backpressure); bytes past the declared size are ESIZE. The caller must not change `chunk` once
   * handed over. A write that is the whole file at once lets a backend take its shortest road.
   */
  write(chunk: Buffer): Promise<void>;
  /** The hash (spec's alg) of every byte of the file, once all `size` are written (ESIZE otherwise). */
  digest(): Promise<string>;
  /**
   * Makes the verified bytes durable, still invisible (with the mtime the spec asked for). Stages of
   * several uploads may overlap; call after the caller compared {@link digest} with the client's md5.
   */
  stage(): Promise<void>;
  /**
   * Puts the staged file under its name in one atomic step (no reader ever sees part of it) and
   * counts it against the quota. EEXIST when a name appeared meanwhile and `overwrite` is off.
   * Resolves as soon as the name is in place: a caller ordering commits can start the next one.
   */
  commit(): Promise<void>;
  /**
   * After {@link commit}: resolves once the commit survives a crash (the local backend syncs the
   * directory, shared by a burst of commits into it), and the hash is known to later requests.
   */
  sync(): Promise<void>;
  /**
   * Ends an upload that will not be committed. `keep`: what was received stays as a resumable
   * partial that a later upload with `resume` may claim (the connection was lost); otherwise it is
   * removed. Takes effect synchronously for claims arriving meanwhile. Harmless after a commit and
   * when called twice; never rejects.
   */
  abort(keep: boolean): Promise<void>;
}

/**
 * One served tree (a local root, a bucket prefix). Shared by every session confined to it, so that
 * their reservations and quota counts meet. Operations act on the name itself: `stat`, `delete` and
 * `rename` never follow a final symbolic link; `list`, `openRead` and `sum` do, inside the tree only.
 */
export interface Storage {
  /** Where it stores, for logs and the start-up line: a real path, or `s3://bucket/prefix`. */
  readonly location: string;
  /**
   * The hash algorithms this store can verify, keep and serve (md5 always). A request in another is
   * refused with EALG before it reaches the store (commands' `refusal`).
   */
  readonly hashes: readonly HashAlgorithm[];
  /**
   * Readies the storage for writers, the first time a session that may write is confined to it (a
   * read-only user may have opened it): the local backend creates its staging area and adopts the
   * partials of a server that died. EACCES when it cannot be written. Idempotent.
   */
  makeWritable(): Promise<void>;
  /**
   * The name itself (a link is reported as a link); with a trailing `/` it must be a directory. A
   * file's known hash is in `alg` (absent when the store knows none in it).
   */
  stat(p: StoragePath, alg?: HashAlgorithm): Promise<StorageEntry>;
  /**
   * The entries of a directory in batches, sorted by the UTF-8 bytes of their names, produced as the
   * caller asks for the next batch (a slow reader holds the work here too) and never the whole
   * directory in memory at once beyond its names. A path naming a file lists that one entry. Errors
   * about the path come from the first batch, before the caller has sent anything. Stopping early
   * (`return()` on the iterator) frees what the listing holds.
   */
  list(p: StoragePath, alg?: HashAlgorithm): AsyncIterable<readonly StorageEntry[]>;
  /** Opens a regular file for reading (EISDIR for a directory, EACCES for anything else not a file). */
  openRead(p: StoragePath): Promise<ReadHandle>;
  /**
   * The hash in `alg` of a whole regular file: known (cache, metadata) or read and hashed, ECHANGED
   * rather than vouch for bytes read across a change. `reserve` is awaited before buffers are taken.
   */
  sum(p: StoragePath, alg: HashAlgorithm, reserve?: ReserveMemory): Promise<FileSum>;
  /** Admission of an upload (see {@link Upload}); nothing is visible until its commit. */
  beginUpload(spec: UploadSpec): Promise<Upload>;
  /** One directory (its parent must exist), or with `parents` every missing one on the way. */
  mkdir(p: StoragePath, parents: boolean): Promise<void>;
  /** The name itself; `recursive` removes a directory's whole tree (never following a link). */
  delete(p: StoragePath, recursive: boolean): Promise<void>;
  /**
   * Moves a name (a link moves as a link). Onto itself is a no-op; without `overwrite` an existing
   * target is EEXIST. A backend that cannot rename a directory atomically says so in PROTOCOL.md.
   */
  rename(from: StoragePath, to: StoragePath, overwrite: boolean): Promise<void>;
  /**
   * For df: what an upload could still get (free space less what uploads in progress hold) and the
   * size of the store, each absent when the backend cannot tell (an object store has no such
   * figure); with `quota`, what the user has used of it.
   */
  space(quota: QuotaLimits | null): Promise<SpaceFigures>;
  /** Removes partials of interrupted uploads not touched for `maxAgeMs`. */
  sweep(maxAgeMs: number): Promise<void>;
  /** Counts the usage behind quotas again on the next need (the users file was reloaded). */
  recount(): Promise<void>;
  close(): Promise<void>;
}
