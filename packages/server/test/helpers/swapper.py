"""Swaps two paths back and forth with renameat2(RENAME_EXCHANGE) until told to stop.

The attacker of the symlink-swap race tests: a directory inside the served root and a symlink to a
directory outside it trade places thousands of times a second, atomically, so that any check of a
path string is stale by the time the kernel resolves it again. Bounded: it stops after `seconds`
even if nobody tells it to. Prints "ready" once it has swapped once, and the number of swaps at the end.
"""
import ctypes
import os
import sys
import time

AT_FDCWD = -100
RENAME_EXCHANGE = 2

libc = ctypes.CDLL(None, use_errno=True)
renameat2 = libc.renameat2
renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]


def main() -> None:
    a, b, seconds = os.fsencode(sys.argv[1]), os.fsencode(sys.argv[2]), float(sys.argv[3])
    deadline = time.monotonic() + seconds
    swaps = 0
    os.set_blocking(0, False)
    while time.monotonic() < deadline:
        if renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) != 0:
            err = ctypes.get_errno()
            print(f"renameat2: {os.strerror(err)}", file=sys.stderr, flush=True)
            sys.exit(2)
        swaps += 1
        if swaps == 1:
            print("ready", flush=True)
        if swaps % 64 == 0:
            try:
                if os.read(0, 1) == b"":
                    break
            except BlockingIOError:
                pass
    # Leave the pair as it started (the directory under its own name) so the test can inspect it.
    if swaps % 2 == 1:
        renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE)
    print(swaps, flush=True)


main()
