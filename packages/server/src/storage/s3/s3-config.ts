import { S3Client } from "@aws-sdk/client-s3";

const MiB = 1024 * 1024;

/** S3's own limits on a multipart upload. */
export const S3_MIN_PART = 5 * MiB;
export const S3_MAX_PART = 5 * 1024 * MiB;
export const S3_MAX_PARTS = 10_000;
/** The largest object one CopyObject may copy; bigger ones are copied part by part. */
export const S3_MAX_COPY = 5 * 1024 * MiB;

/** Default bytes per part of an upload; a file up to this size is stored with one PutObject. */
export const DEFAULT_PART_SIZE = 8 * MiB;
/** Default parts of one upload on their way to the store at once, besides the one filling. */
export const DEFAULT_PARTS_IN_FLIGHT = 2;

/** Where ferryd keeps its files: `s3://BUCKET[/PREFIX]` and how to reach the store. */
export interface S3Settings {
  bucket: string;
  /** "" or a key prefix ending in "/": every key ferryd writes starts with it. */
  prefix: string;
  /** e.g. http://127.0.0.1:7480; absent: AWS's own endpoint for the region. */
  endpoint?: string;
  /** Default us-east-1. */
  region?: string;
  /**
   * Bytes per part of a multipart upload (at least 5 MiB), and the size up to which a file goes in
   * one PutObject. Raised for a file that would need more than 10,000 parts. Default 8 MiB.
   */
  partSize?: number;
  /** Parts of one upload sent at once; an upload holds at most partSize × (this + 1). Default 2. */
  partsInFlight?: number;
}

/** Parses `s3://BUCKET[/PREFIX]` (a setting, so a plain Error); the prefix comes back "" or ending in "/". */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  const bucket = m?.[1];
  if (!bucket || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw new Error(`not an s3://BUCKET[/PREFIX] URL: ${JSON.stringify(url)}`);
  const rest = (m?.[2] ?? "").replace(/\/+$/, "");
  if (rest.split("/").some((n) => n === "." || n === ".." || (rest !== "" && n === "")))
    throw new Error(`the prefix of ${JSON.stringify(url)} has an empty, . or .. name`);
  return { bucket, prefix: rest === "" ? "" : `${rest}/` };
}

/**
 * An S3 client set up for S3 and the S3-compatible stores: path-style addressing (a bucket name need
 * not be a host name) and request checksums only where S3 requires them (the SDK's default since
 * 3.729 sends streaming checksums that Ceph RGW and others reject). Credentials come from the AWS
 * SDK's default chain (environment, shared files, instance roles), never from ferryd's options.
 */
export function createS3Client(settings: S3Settings): S3Client {
  return new S3Client({
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    region: settings.region ?? process.env.AWS_REGION ?? "us-east-1",
    forcePathStyle: true,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    // Retries of a request whose body is a part buffer are safe; the SDK's default is 3 attempts.
    maxAttempts: 3,
  });
}

/** The part size for a file of `size` bytes: the configured one, raised to stay within 10,000 parts. */
export function partSizeFor(size: number, configured: number): number {
  const needed = Math.ceil(size / S3_MAX_PARTS / MiB) * MiB;
  return Math.min(S3_MAX_PART, Math.max(configured, needed, S3_MIN_PART));
}
