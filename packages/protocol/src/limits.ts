/** Largest exact integer a JSON number carries: sizes and offsets may go up to this (8 PiB). */
export const MAX_SIZE = Number.MAX_SAFE_INTEGER;
/** Default cap on a frame header, checked against the length prefix before buffering it. */
export const DEFAULT_MAX_HEADER_BYTES = 64 * 1024;
/** Absolute cap on any header a peer may configure; the length prefix is a u32. */
export const MAX_HEADER_BYTES_LIMIT = 16 * 1024 * 1024;
export const MAX_PATH_BYTES = 4096;
export const MAX_NAME_BYTES = 255;
export const PROTOCOL_VERSION = 1;
export const DEFAULT_PORT = 2121;
