import path from "node:path";
import { createS3Place } from "@ferry/test-fixtures/s3";
import { inject, onTestFinished } from "vitest";
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
  const plan = inject("ferryS3");
  if (!plan || plan.mode === "none") return []; // s3-backend.test.ts shows the reason as a skipped suite
  const s3: TestBackend = {
    name: "s3",
    async fresh() {
      const place = await createS3Place(plan);
      onTestFinished(() => place.remove());
      // The in-process ferryd takes its keys from the standard AWS variables, as a real one does.
      Object.assign(process.env, place.env);
      return { storage: place.url, s3: { endpoint: place.endpoint.endpoint, partSize: S3_TEST_PART_SIZE } };
    },
  };
  return [s3];
}

/** S3's smallest part, so that a test of a few MiB has whole parts to resume from. */
export const S3_TEST_PART_SIZE = 5 * 1024 * 1024;

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
