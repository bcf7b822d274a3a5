"""Random bytes from the operating system, drawn a few kilobytes at a time.

os.urandom gives up the interpreter lock for its system call. Under load every call then
waits for the lock back behind the other threads (the SQLite threads, the photo checks):
measured with one busy thread beside it, 18-29 us a call instead of 0.3 (issue 13: the
nonce of each sealed state, event and reply key, 3 % of the event loop at c=64). Taking
them from a pool keeps the lock. The bytes are the same CSPRNG's; each thread has a pool
of its own and a process made by fork() draws a new one, so no two callers ever get the
same bytes (AES-GCM must never see a nonce twice under one key).
"""

from __future__ import annotations

import os
import threading

POOL_SIZE = 4096  # bytes drawn from the OS at a time: 341 nonces of 12 bytes


class _Pool(threading.local):
    def __init__(self) -> None:
        self.data = b""
        self.at = 0
        self.pid = 0


_pool = _Pool()


def random_bytes(size: int) -> bytes:
    """`size` bytes from the OS's CSPRNG, unique to this call (size at most POOL_SIZE)."""
    if not 0 < size <= POOL_SIZE:
        raise ValueError(f"random_bytes takes 1 to {POOL_SIZE} bytes at a time")
    pool, pid = _pool, os.getpid()
    if pool.at + size > len(pool.data) or pool.pid != pid:
        pool.data, pool.at, pool.pid = os.urandom(POOL_SIZE), 0, pid
    taken = pool.data[pool.at : pool.at + size]
    pool.at += size
    return taken
