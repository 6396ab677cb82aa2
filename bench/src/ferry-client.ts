/**
 * The slice of the @ferry/client API (see notes/API.md) the bench uses. Loaded lazily so the bench
 * builds, and its baselines run, even while the client library is still a stub.
 */
import { CLIENT_LIB } from "./paths.js";

export interface TransferResult {
  size: number;
  md5: string;
  transferred: number;
  seconds: number;
}
export interface TransferOptions {
  overwrite?: boolean;
  resume?: boolean;
  parents?: boolean;
}
export interface FerrySession {
  put(localPath: string, remotePath: string, opts?: TransferOptions): Promise<TransferResult>;
  get(remotePath: string, localPath: string, opts?: TransferOptions): Promise<TransferResult>;
  mkdir(path: string, opts?: { parents?: boolean }): Promise<void>;
  close(): Promise<void>;
}
export interface ConnectOptions {
  host: string;
  port?: number;
  secret?: string;
  timeoutMs?: number;
  clientName?: string;
}
export type Connect = (options: ConnectOptions) => Promise<FerrySession>;

/** The library's connect(), or an explanation of why it is not there yet. */
export async function loadConnect(): Promise<Connect> {
  const lib = (await import(CLIENT_LIB)) as Record<string, unknown>;
  if (typeof lib.connect !== "function") throw new Error("@ferry/client does not export connect() yet");
  return lib.connect as Connect;
}
