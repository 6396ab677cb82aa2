import { setTimeout as sleep } from "node:timers/promises";
import { isFerryError } from "../lib/index.js";

/** Answers a person may type before ferry gives up on a login (as ssh and sudo allow). */
export const LOGIN_TRIES = 3;
/** The longest server-requested wait (auth backoff, EBUSY) that ferry sits out before retrying. */
export const MAX_BACKOFF_WAIT_MS = 5_000;

/** Why a connection attempt failed, as far as the login goes. */
export type LoginFailure = "missing" | "wrong" | "backoff" | null;

/** The library's EAUTH says which: `details.rejected` for a wrong credential, else none was given. */
export function loginFailure(err: unknown): LoginFailure {
  if (!isFerryError(err)) return null;
  const d = err.details as { authRequired?: boolean; rejected?: boolean; retryAfterMs?: number };
  if (err.code === "EAUTH" && d.authRequired === true) return d.rejected === true ? "wrong" : "missing";
  if (err.code === "EBUSY" && typeof d.retryAfterMs === "number" && d.retryAfterMs <= MAX_BACKOFF_WAIT_MS)
    return "backoff";
  return null;
}

export interface LoginSteps<T, C> {
  /** What is already known (from the command line, the environment, an earlier login). */
  known: C | undefined;
  /** One connection attempt with this credential. */
  attempt(credential: C | undefined): Promise<T>;
  /**
   * Asks a person: `refused` when the server refused the last credential tried, `attempt` counts the
   * answers (1 to LOGIN_TRIES). Without a terminal it rejects with the error that says how to give
   * the credential instead.
   */
  ask(question: { refused: boolean; attempt: number }): Promise<C>;
  /** A person is there to answer: a wrong answer is asked again instead of ending the login. */
  interactive: boolean;
  /** Default loginFailure; a password login (accounts) may read its own errors. */
  classify?: (err: unknown) => LoginFailure;
}

/**
 * The login loop around the library's connect, shared by the shared secret and (later) passwords:
 * a missing credential is asked for; at the prompt a wrong one is asked again, up to LOGIN_TRIES
 * answers; a short backoff the server asks for is waited out. Resolves with the session and the
 * credential that worked; rejects with the last error.
 */
export async function login<T, C>(steps: LoginSteps<T, C>): Promise<{ value: T; credential: C | undefined }> {
  const classify = steps.classify ?? loginFailure;
  let credential = steps.known;
  let asked = 0;
  let waited = false;
  for (;;) {
    try {
      return { value: await steps.attempt(credential), credential };
    } catch (err) {
      const failure = classify(err);
      if (failure === "backoff" && !waited) {
        // Once per answer: the server slows repeated failures down; a second refusal stands.
        waited = true;
        const ms = (err as { details: { retryAfterMs: number } }).details.retryAfterMs;
        await sleep(ms + 50);
        continue;
      }
      const canAsk = failure === "missing" || (failure === "wrong" && steps.interactive);
      if (!canAsk || asked >= LOGIN_TRIES) throw err;
      waited = false;
      asked++;
      credential = await steps.ask({ refused: failure === "wrong", attempt: asked });
    }
  }
}
