import { MIRROR_WINDOW } from "../../lib/index.js";

export { inWindow } from "../../lib/window.js";

/**
 * In-flight transfers for mput/mget, as many as mirror keeps: on a long link the window, not the
 * bandwidth, bounds small files per second (64 in flight through 50 ms is at most 1,280 files/s).
 */
export const TRANSFER_WINDOW = MIRROR_WINDOW;
