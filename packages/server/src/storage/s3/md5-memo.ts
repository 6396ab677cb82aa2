/** Objects whose md5 ferryd hashed itself (no metadata: written behind its back, or over 5 GiB). */
export const MD5_MEMO_ENTRIES = 10_000;

/**
 * md5s ferryd computed while sending objects that carry none in their metadata, by key and ETag (a
 * new version has a new ETag, so a stale md5 is never reported). Bounded: the oldest goes first.
 */
export class Md5Memo {
  private readonly byKey = new Map<string, { etag: string; md5: string }>();

  get(key: string, etag: string): string | undefined {
    const hit = this.byKey.get(key);
    return hit && hit.etag === etag && etag !== "" ? hit.md5 : undefined;
  }

  set(key: string, etag: string, md5: string): void {
    if (etag === "") return;
    this.byKey.delete(key);
    this.byKey.set(key, { etag, md5 });
    if (this.byKey.size > MD5_MEMO_ENTRIES) this.byKey.delete(this.byKey.keys().next().value as string);
  }
}
