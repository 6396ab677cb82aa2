import { RawClient } from "./raw-client.js";

/** Polls `check` until it returns a value (not undefined) — for states another process reaches. */
export async function until<T>(
  check: () => Promise<T | undefined> | T | undefined,
  what: string,
  tries = 500,
): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** A well-behaved client can still connect and be served. */
export async function assertServes(port: number, secret?: string): Promise<void> {
  const c = await RawClient.ready(port, secret);
  const reply = await c.request({ cmd: "stat", path: "/" });
  c.close();
  if (reply.ok !== true) throw new Error(`server no longer serves: ${JSON.stringify(reply)}`);
}
