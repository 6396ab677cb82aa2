/** How long a put waits for another put of the same path and size to let go (PROTOCOL.md §6). */
export const CLAIM_WAIT_MS = 2000;

/**
 * The interrupted uploads this server's puts are working on, by state id: one put at a time may
 * take over a partial. Across servers there is no lock; see MultipartUpload for what keeps that safe.
 */
export class UploadClaims {
  private readonly held = new Map<string, Promise<void>>();

  /** Claims `id`, waiting up to `waitMs` for its holder; returns the release, or null if still held. */
  async claim(id: string, waitMs = CLAIM_WAIT_MS): Promise<(() => void) | null> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const current = this.held.get(id);
      if (!current) break;
      const left = deadline - Date.now();
      if (left <= 0) return null;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([current, new Promise<void>((r) => (timer = setTimeout(r, left)))]);
      clearTimeout(timer);
    }
    let release = () => {};
    const done = new Promise<void>((r) => (release = r));
    this.held.set(id, done);
    return () => {
      if (this.held.get(id) === done) this.held.delete(id);
      release();
    };
  }
}
