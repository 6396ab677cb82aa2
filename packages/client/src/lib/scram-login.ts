import type { Socket } from "node:net";
import { TLSSocket } from "node:tls";
import { channelBindingOf, FerryError, SCRAM_MECHANISM, ScramClient, type ScramReply } from "@ferry/protocol";
import type { Connection } from "./connection.js";

/** What every failed account login says, whatever the reason (PROTOCOL.md §3). */
const REJECTED = "wrong user or password";

/**
 * Logs in to a server with accounts: SCRAM-SHA-256 in two `auth` round trips, bound to the TLS
 * channel when the socket is TLS (`tls-exporter`), and the server's own proof checked at the end,
 * so a server (or a man in the middle) that does not hold this user's verifier is not believed.
 *
 * Rejects with EAUTH: `details.accounts` is always true; `details.missing` ("user" or "password")
 * when one was not given, `details.rejected` when the server refused them.
 */
export async function scramLogin(
  conn: Connection,
  socket: Socket,
  user: string | undefined,
  password: string | undefined,
): Promise<void> {
  const needs = (missing: "user" | "password") =>
    new FerryError(
      "EAUTH",
      `the server has accounts (${SCRAM_MECHANISM}): give a ${missing === "user" ? "user name" : "password"}`,
      { authRequired: true, accounts: true, missing },
    );
  if (user === undefined) throw needs("user");
  if (password === undefined) throw needs("password");
  const binding = socket instanceof TLSSocket ? channelBindingOf(socket) : null;
  const client = new ScramClient(user, password, binding);
  const step = async (scram: string): Promise<string> => {
    try {
      return (await conn.call<ScramReply>((id) => ({ cmd: "auth", id, scram }), "scram")).scram;
    } catch (err) {
      if (err instanceof FerryError && err.code === "EAUTH") {
        throw new FerryError(
          "EAUTH",
          REJECTED,
          { authRequired: true, accounts: true, rejected: true },
          { cause: err },
        );
      }
      throw err;
    }
  };
  const serverFirst = await step(client.first);
  // PBKDF2 of the password: the server waits for us meanwhile, which is not its silence.
  const clientFinal = await conn.localWork(() => client.final(serverFirst));
  const serverFinal = await step(clientFinal);
  client.verifyServer(serverFinal);
}
