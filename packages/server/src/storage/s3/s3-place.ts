import type { S3Client } from "@aws-sdk/client-s3";
import { ByteBudget } from "./byte-budget.js";
import { S3Keys } from "./keys.js";
import { KnownDirs } from "./known-dirs.js";
import {
  createS3Client,
  DEFAULT_PART_SIZE,
  DEFAULT_PARTS_IN_FLIGHT,
  S3_MIN_PART,
  type S3Settings,
} from "./s3-config.js";
import { UploadClaims } from "./upload-claims.js";

/**
 * Part buffers all uploads of one server may hold at once, by default: 32 default-size parts. An
 * upload that cannot get its next buffer waits (and so does its socket), so memory stays bounded
 * however many clients put at once.
 */
export const DEFAULT_UPLOAD_MEMORY = 256 * 1024 * 1024;

/** One bucket and prefix as ferryd uses it: the client, the key layout and the upload limits. */
export class S3Place {
  readonly keys: S3Keys;
  readonly partSize: number;
  readonly partsInFlight: number;
  /** Shared by every upload of this place: the bytes their part buffers hold together. */
  readonly uploadMemory: ByteBudget;
  /** The interrupted uploads this server is taking over, one put each. */
  readonly claims = new UploadClaims();
  /** Directories seen a moment ago (see KnownDirs). */
  readonly knownDirs = new KnownDirs();

  constructor(
    readonly client: S3Client,
    readonly bucket: string,
    prefix: string,
    options: { partSize?: number; partsInFlight?: number; uploadMemory?: number } = {},
  ) {
    this.keys = new S3Keys(prefix);
    this.partSize = Math.max(S3_MIN_PART, options.partSize ?? DEFAULT_PART_SIZE);
    this.partsInFlight = Math.max(1, options.partsInFlight ?? DEFAULT_PARTS_IN_FLIGHT);
    // Never less than one upload's worth, or a single upload could wait forever.
    const memory = Math.max(
      options.uploadMemory ?? DEFAULT_UPLOAD_MEMORY,
      this.partSize * (this.partsInFlight + 1),
    );
    this.uploadMemory = new ByteBudget(memory);
  }

  static open(settings: S3Settings & { uploadMemory?: number }): S3Place {
    return new S3Place(createS3Client(settings), settings.bucket, settings.prefix, settings);
  }

  close(): void {
    this.client.destroy();
  }
}
