import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { onTestFinished } from "vitest";
import { type FerryServer, type ServerOptions, startServer } from "../../src/index.js";

export interface TestServer {
  server: FerryServer;
  port: number;
  /** The served root (real path). */
  root: string;
  /** A directory beside the root that no client may ever change. */
  canary: string;
  /** The temp directory holding both. */
  base: string;
}

/** A temp dir removed when the test finishes, pass or fail. `inMemory`: on tmpfs when there is one. */
export async function tempDir(inMemory = false): Promise<string> {
  const parent = inMemory && existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir();
  const dir = await mkdtemp(path.join(parent, "ferryd-test-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Starts an in-process server on 127.0.0.1:0 over a fresh root, with a canary beside it. Plain TCP
 * unless `options.tls` says otherwise: these tests speak the wire format by hand (RawClient), and the
 * TLS layer has its own tests (tls.test.ts).
 */
export async function startTestServer(
  options: Partial<ServerOptions> = {},
  inMemory = false,
): Promise<TestServer> {
  const base = await tempDir(inMemory);
  const canary = path.join(base, "canary");
  await mkdir(path.join(canary, "sub"), { recursive: true });
  await writeFile(path.join(canary, "secret.txt"), "do not touch\n");
  await writeFile(path.join(canary, "sub", "deep.txt"), "deeper\n");
  const server = await startServer({ root: path.join(base, "root"), port: 0, tls: false, ...options });
  onTestFinished(() => server.close());
  return { server, port: server.port, root: server.root, canary, base };
}

/** A checksum of every name and byte under `dir`: equal before and after means untouched. */
export async function treeChecksum(dir: string): Promise<string> {
  const hash = createHash("sha256");
  const walk = async (d: string, rel: string): Promise<void> => {
    const entries = (await readdir(d, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const p = path.join(d, e.name);
      hash.update(`${rel}/${e.name}:${e.isDirectory() ? "d" : e.isSymbolicLink() ? "l" : "f"}\n`);
      if (e.isDirectory()) await walk(p, `${rel}/${e.name}`);
      else if (e.isFile()) hash.update(await readFile(p));
    }
  };
  await walk(dir, "");
  return hash.digest("hex");
}

/** Files in the staging folder (uploads in progress or kept partials). */
export async function stagingFiles(root: string): Promise<string[]> {
  return readdir(path.join(root, ".ferry-staging")).catch(() => []);
}
