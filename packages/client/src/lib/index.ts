/**
 * @ferry/client: the ferry client library. No terminal code: usable from any Node program.
 *
 * ```ts
 * const session = await connect({ host: "127.0.0.1", port: 2121, secret });
 * await session.put("big.iso", "/isos/big.iso", { onProgress: (p) => draw(p) });
 * await session.close();
 * ```
 */

export type { Entry, EntryType, HashAlgorithm } from "@ferry/protocol";
export {
  DEFAULT_PORT,
  fingerprintHex,
  HASH_ALGORITHMS,
  isHashAlgorithm,
  normalizeFingerprint,
  parseByteRate,
} from "@ferry/protocol";
export { CLIENT_NAME, CLIENT_VERSION, connect, DEFAULT_TIMEOUT_MS } from "./client.js";
export {
  ERROR_CODES,
  type ErrorCode,
  FerryError,
  isFerryError,
} from "./errors.js";
export { hostKey, type KnownHost, KnownHosts } from "./known-hosts.js";
export * from "./mirror/index.js";
export {
  PROGRESS_INTERVAL_MS,
  type Progress,
  type ProgressCallback,
  type ProgressPhase,
} from "./progress.js";
export { isSafeRemoteName, printable, resolveLocalTarget } from "./safe-names.js";
export { IN_MEMORY_GET_MAX, PART_SUFFIX } from "./transfer/download.js";
export { STREAMED_PUT_MAX } from "./transfer/upload.js";
export type {
  ConnectOptions,
  DiskUsage,
  FerrySession,
  KnownHostsOptions,
  ServerInfo,
  SumResult,
  TlsInfo,
  TlsOptions,
  TransferOptions,
  TransferResult,
  TrustedBy,
  UnknownHost,
} from "./types.js";
export { inWindow } from "./window.js";
