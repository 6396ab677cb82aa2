import { FerryError } from "@ferry/protocol";
import type { SessionIO } from "../context.js";

export function assertWritable(io: SessionIO): void {
  if (io.server.options.readOnly) throw new FerryError("EACCES", "the server is read-only");
}
