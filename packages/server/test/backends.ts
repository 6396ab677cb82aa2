import path from "node:path";
import { onTestFinished } from "vitest";
import { type FerryServer, type ServerOptions, startServer } from "../src/index.js";
import { tempDir } from "./helpers/server.js";

/**
 * A storage backend the wire tests run against. `fresh()` makes a new, empty tree on it, removed
 * when the test finishes, and returns the server options that serve it.
 */
export interface TestBackend {
  readonly name: string;
  fresh(): Promise<Partial<ServerOptions>>;
}

/** The local directory tree: always tested. */
const local: TestBackend = {
  name: "local",
  async fresh() {
    return { storage: `file:${path.join(await tempDir(), "root")}` };
  },
};

/**
 * Backends whose tests need a service that may not be there: each is listed only when the
 * environment says where it is (the S3 backend: FERRY_TEST_S3_ENDPOINT and its bucket and keys).
 */
function optionalBackends(_env: NodeJS.ProcessEnv): TestBackend[] {
  return [];
}

export const BACKENDS: readonly TestBackend[] = [local, ...optionalBackends(process.env)];

/** ferryd in this process on 127.0.0.1:0 over a fresh tree of `backend`, plain TCP; closed after the test. */
export async function startOn(
  backend: TestBackend,
  options: Partial<ServerOptions> = {},
): Promise<{ server: FerryServer; port: number }> {
  const server = await startServer({ port: 0, tls: false, ...(await backend.fresh()), ...options });
  onTestFinished(() => server.close());
  return { server, port: server.port };
}
