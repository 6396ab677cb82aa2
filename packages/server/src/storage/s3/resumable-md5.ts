import { createMD5, type IHasher } from "hash-wasm";

/**
 * An md5 whose running state can be written down and taken up again in another process (see
 * UploadState). hash-wasm's state is its own format, checked when loaded: a state from another
 * version of it fails to load, and the upload then starts from byte 0 rather than trust it.
 */
export class ResumableMd5 {
  private constructor(private readonly hasher: IHasher) {}

  static async fresh(): Promise<ResumableMd5> {
    const hasher = await createMD5();
    hasher.init();
    return new ResumableMd5(hasher);
  }

  /** The md5 taken up from `saved` (base64), or null when that state cannot be loaded. */
  static async load(saved: string): Promise<ResumableMd5 | null> {
    const hasher = await createMD5();
    try {
      hasher.load(Buffer.from(saved, "base64"));
      return new ResumableMd5(hasher);
    } catch {
      return null;
    }
  }

  update(chunk: Uint8Array): void {
    this.hasher.update(chunk);
  }

  save(): string {
    return Buffer.from(this.hasher.save()).toString("base64");
  }

  /** The md5 so far, without ending this one. */
  async peek(): Promise<string> {
    const copy = await ResumableMd5.load(this.save());
    return (copy as ResumableMd5).hasher.digest("hex");
  }

  digest(): string {
    return this.hasher.digest("hex");
  }
}
