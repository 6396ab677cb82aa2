export { inWindow } from "../../lib/window.js";

/** In-flight transfers for mput/mget. */
export const TRANSFER_WINDOW = 64;
