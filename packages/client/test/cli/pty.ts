import { FERRY_BIN, inPty, type Pty, testKnownHostsFile } from "@ferry/test-fixtures";

export type { Pty };

/** The real `ferry` in a real pseudo-terminal (see inPty); killed when the test ends. */
export function ferryInPty(
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; columns?: number; rows?: number },
): Pty {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // A secret in the developer's shell must not answer the prompt we want to see, nor a pin the
  // question about a new host; and the user's known_hosts is never read.
  delete env.FERRY_SECRET;
  delete env.FERRY_FINGERPRINT;
  env.FERRY_KNOWN_HOSTS = testKnownHostsFile();
  Object.assign(env, opts.env);
  return inPty(FERRY_BIN, args, { ...opts, env });
}
