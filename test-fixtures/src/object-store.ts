import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, constants, createWriteStream, existsSync } from "node:fs";
import { mkdir, rmdir } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from "@aws-sdk/client-s3";
import { REPO_ROOT } from "./paths.js";

/** The project's copy of the shared script that runs a single-node Ceph RADOS Gateway. */
export const CEPH_RGW_SCRIPT = path.join(REPO_ROOT, "scripts", "ceph-rgw.sh");

/** An S3 endpoint and the keys for it (never printed). */
export interface S3Endpoint {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * How this test run reaches an object store: an endpoint from the environment
 * (FERRY_TEST_S3_ENDPOINT, FERRY_TEST_S3_BUCKET, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; each
 * test then gets a fresh prefix in that bucket), a Ceph RGW this run starts on first use (each test
 * gets a fresh bucket), or none, with the reason the S3 tests are skipped.
 */
export type S3Plan =
  | { mode: "external"; endpoint: S3Endpoint; bucket: string }
  | { mode: "rgw"; dir: string; port: number }
  | { mode: "none"; reason: string };

function onPath(bin: string): boolean {
  return (process.env.PATH ?? "").split(path.delimiter).some((d) => {
    try {
      accessSync(path.join(d, bin), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** A free TCP port on 127.0.0.1 whose next port is free too (RGW's mon), outside the OSD's 6800–7300. */
export async function freeRgwPort(): Promise<number> {
  const probe = (port: number) =>
    new Promise<number | null>((resolve) => {
      const srv = createServer();
      srv.once("error", () => resolve(null));
      srv.listen(port, "127.0.0.1", () => {
        const got = (srv.address() as { port: number }).port;
        srv.close(() => resolve(got));
      });
    });
  for (let i = 0; i < 50; i++) {
    const port = await probe(0);
    if (port === null || port >= 65535 || (port >= 6790 && port <= 7310)) continue;
    if ((await probe(port + 1)) !== null) return port;
  }
  throw new Error("no free port pair for RGW on 127.0.0.1");
}

/**
 * Decides once per run (in vitest's globalSetup) how the S3 tests reach a store. FERRY_TEST_S3:
 * `skip` skips them, `require` fails the run when there is no store (CI), anything else uses one if
 * there is one. `dir` is where an RGW of this run would live.
 */
export async function planS3(env: NodeJS.ProcessEnv, dir: string): Promise<S3Plan> {
  const want = env.FERRY_TEST_S3 ?? "";
  const external = env.FERRY_TEST_S3_ENDPOINT;
  let plan: S3Plan;
  if (want === "skip") plan = { mode: "none", reason: "FERRY_TEST_S3=skip" };
  else if (external) {
    const { FERRY_TEST_S3_BUCKET: bucket, AWS_ACCESS_KEY_ID: id, AWS_SECRET_ACCESS_KEY: secret } = env;
    if (!bucket || !id || !secret)
      throw new Error(
        "FERRY_TEST_S3_ENDPOINT needs FERRY_TEST_S3_BUCKET, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
      );
    const endpoint = {
      endpoint: external,
      region: env.AWS_REGION ?? "us-east-1",
      accessKeyId: id,
      secretAccessKey: secret,
    };
    plan = { mode: "external", endpoint, bucket };
  } else if (onPath("radosgw") && existsSync(CEPH_RGW_SCRIPT)) {
    plan = { mode: "rgw", dir, port: await freeRgwPort() };
  } else {
    plan = {
      mode: "none",
      reason:
        "no object store: radosgw is not installed (scripts/ceph-rgw.sh install) and FERRY_TEST_S3_ENDPOINT is not set",
    };
  }
  if (plan.mode === "none" && want === "require")
    throw new Error(`FERRY_TEST_S3=require, but ${plan.reason}`);
  return plan;
}

/** Runs `ceph-rgw.sh ARGS`; resolves with its stdout. Its stderr (and the daemons' leaked fd) go to a log. */
async function runScript(args: string[], log: string): Promise<string> {
  const err = createWriteStream(log, { flags: "a" });
  await new Promise((r) => err.once("open", r));
  return new Promise((resolve, reject) => {
    // The daemons it starts keep the script's stderr open, so it must be a file, never a pipe.
    const child = spawn("bash", [CEPH_RGW_SCRIPT, ...args], { stdio: ["ignore", "pipe", err] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      out += s;
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      err.end();
      if (code === 0) resolve(out);
      else reject(new Error(`ceph-rgw.sh ${args[0]} exited ${code}; see ${log}`));
    });
  });
}

/** Starts (or finds running) the RGW of `dir` on `port`; resolves with its endpoint and keys. */
export async function startRgw(dir: string, port: number): Promise<S3Endpoint> {
  await mkdir(dir, { recursive: true });
  const out = await runScript(
    ["start", path.join(dir, "cluster"), String(port)],
    path.join(dir, "script.log"),
  );
  const m = /endpoint=(\S+) access_key=(\S+) secret_key=(\S+)/.exec(out);
  if (!m) throw new Error(`ceph-rgw.sh start printed no endpoint line; see ${dir}/script.log`);
  return {
    endpoint: m[1] as string,
    region: "us-east-1",
    accessKeyId: m[2] as string,
    secretAccessKey: m[3] as string,
  };
}

export async function stopRgw(dir: string): Promise<void> {
  if (!existsSync(path.join(dir, "cluster", "ceph.conf"))) return;
  await runScript(["stop", path.join(dir, "cluster")], path.join(dir, "script.log"));
}

let started: Promise<S3Endpoint> | null = null;

/**
 * The endpoint of this run's store, starting the run's RGW on first use: vitest's workers share it
 * (a lock directory makes one of them start it; `ceph-rgw.sh start` on a running one only prints
 * its line).
 */
export function s3EndpointOf(plan: Exclude<S3Plan, { mode: "none" }>): Promise<S3Endpoint> {
  if (plan.mode === "external") return Promise.resolve(plan.endpoint);
  started ??= (async () => {
    await mkdir(plan.dir, { recursive: true });
    const lock = path.join(plan.dir, "start.lock");
    for (let i = 0; ; i++) {
      try {
        await mkdir(lock);
        break;
      } catch {
        if (i > 1200) throw new Error(`${lock} held for 2 minutes`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    try {
      return await startRgw(plan.dir, plan.port);
    } finally {
      await rmdir(lock).catch(() => {});
    }
  })();
  started.catch(() => {
    started = null;
  });
  return started;
}

/** An S3 client for tests, with the settings ferryd uses (path style, checksums only when required). */
export function testS3Client(e: S3Endpoint): S3Client {
  return new S3Client({
    endpoint: e.endpoint,
    region: e.region,
    forcePathStyle: true,
    credentials: { accessKeyId: e.accessKeyId, secretAccessKey: e.secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

/** Creates `bucket` at the endpoint (for the bench, which has no SDK of its own). */
export async function createBucket(e: S3Endpoint, bucket: string): Promise<void> {
  const client = testS3Client(e);
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
}

/** Where one test keeps its objects: a fresh bucket (RGW) or a fresh prefix in the given bucket. */
export interface S3TestPlace {
  endpoint: S3Endpoint;
  bucket: string;
  /** "" or ending in "/". */
  prefix: string;
  /** `s3://bucket[/prefix]`, for --storage. */
  url: string;
  client: S3Client;
  /** The AWS_* variables a ferryd needs to reach it (for a child's environment). */
  env: Record<string, string>;
  /** Removes every object and multipart upload (and an RGW bucket itself). */
  remove(): Promise<void>;
}

export async function createS3Place(plan: Exclude<S3Plan, { mode: "none" }>): Promise<S3TestPlace> {
  const endpoint = await s3EndpointOf(plan);
  const client = testS3Client(endpoint);
  const id = randomBytes(6).toString("hex");
  let bucket: string;
  let prefix = "";
  if (plan.mode === "external") {
    bucket = plan.bucket;
    prefix = `ferry-test-${id}/`;
  } else {
    bucket = `ferry-t-${id}`;
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  }
  const env = {
    AWS_ACCESS_KEY_ID: endpoint.accessKeyId,
    AWS_SECRET_ACCESS_KEY: endpoint.secretAccessKey,
    AWS_REGION: endpoint.region,
  };
  const remove = async () => {
    await emptyS3Prefix(client, bucket, prefix);
    if (plan.mode === "rgw") await client.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {});
    client.destroy();
  };
  const url = `s3://${bucket}${prefix ? `/${prefix.slice(0, -1)}` : ""}`;
  return { endpoint, bucket, prefix, url, client, env, remove };
}

/** Deletes every object and aborts every multipart upload under `prefix`. */
export async function emptyS3Prefix(client: S3Client, bucket: string, prefix: string): Promise<void> {
  for (;;) {
    const out = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
    const uploads = out.Uploads ?? [];
    for (const u of uploads)
      await client.send(
        new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }),
      );
    if (!out.IsTruncated || uploads.length === 0) break;
  }
  for (;;) {
    const out = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    const objects = (out.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
    if (objects.length === 0) return;
    await client.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }),
    );
  }
}
