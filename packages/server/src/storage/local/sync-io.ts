/**
 * Files up to this size are written (put: staging file, commit, its staging name dropped) and read
 * (get: open, fstat, read, close) with synchronous calls on the main thread. Each call through
 * libuv's thread pool costs a cross-thread hand-off both ways (100-350 µs of CPU on the bench VMs,
 * most of a 4 KiB file's cost when five of them go to one put), while a synchronous call on a file
 * this small takes a few to tens of µs and blocks the event loop for no longer than that. fsync and
 * fdatasync stay on the thread pool at every size: they wait for the disk, for milliseconds.
 * The same bound as the client's (packages/client/src/lib/transfer/local-file.ts).
 */
export const SYNC_IO_MAX = 64 * 1024;
