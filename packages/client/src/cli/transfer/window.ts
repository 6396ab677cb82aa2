import type { WindowLimit } from "../../lib/window.js";

export { inWindow } from "../../lib/window.js";

/**
 * Requests in flight for mput/mget/sum and the directory passes. On a long link the window, not
 * the bandwidth, bounds small files per second: 128 in flight through 50 ms was at most 2,560
 * files/s, and 300 files took three round trips where one would do.
 */
export const TRANSFER_WINDOW = 1024;

/**
 * Bytes of transfers in flight: the memory the window may hold (a small file's bytes are in hand
 * while its request is out), the same 8 MiB that 128 transfers of files up to 64 KiB came to.
 */
export const TRANSFER_WINDOW_BYTES = 8 * 1024 * 1024;

/** The window for transfers, each weighing its size. */
export function transferWindow<T extends { size: number }>(): WindowLimit<T> {
  return { count: TRANSFER_WINDOW, bytes: TRANSFER_WINDOW_BYTES, sizeOf: (item) => item.size };
}
