import { FerryError } from "@ferry/protocol";

/** Why a TCP connect failed: a name that did not resolve is ENOTFOUND, anything else ECONNREFUSED. */
export function connectError(host: string, port: number, err: NodeJS.ErrnoException): FerryError {
  if (err.code === "ENOTFOUND" || err.code === "EAI_AGAIN") {
    const slow = err.code === "EAI_AGAIN" ? " (the name server did not answer)" : "";
    return new FerryError(
      "ENOTFOUND",
      `the host name ${host} did not resolve${slow}; check its spelling, or give an IP address`,
      { host, port, sysCode: err.code },
      { cause: err },
    );
  }
  return new FerryError(
    "ECONNREFUSED",
    `cannot connect to ${host}:${port} (${err.code ?? err.message}); check the host and port, and that ferryd is running there`,
    { host, port, sysCode: err.code },
    { cause: err },
  );
}
