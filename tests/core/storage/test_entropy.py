"""Random bytes from a per-thread pool: never the same bytes twice, in a thread, across
threads, or in a process made by fork()."""

from __future__ import annotations

import os
import threading

import pytest

from core.storage.entropy import POOL_SIZE, random_bytes


def test_gives_new_bytes_each_call_past_many_pools() -> None:
    nonces = [random_bytes(12) for _ in range(3 * POOL_SIZE // 12)]

    assert len(set(nonces)) == len(nonces)
    assert {len(nonce) for nonce in nonces} == {12}


def test_threads_never_share_bytes() -> None:
    taken: list[list[bytes]] = [[] for _ in range(4)]

    def draw(into: list[bytes]) -> None:
        into.extend(random_bytes(16) for _ in range(500))

    threads = [threading.Thread(target=draw, args=(into,)) for into in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    every = [nonce for each in taken for nonce in each]
    assert len(set(every)) == len(every) == 2000


def test_a_forked_process_draws_bytes_of_its_own() -> None:
    random_bytes(12)  # this process's pool, which the child inherits
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # the child: its next bytes, to the parent
        os.close(reading)
        os.write(writing, random_bytes(12))
        os._exit(0)
    os.close(writing)
    try:
        childs = os.read(reading, 12)
    finally:
        os.close(reading)
        os.waitpid(child, 0)

    assert len(childs) == 12
    assert childs != random_bytes(12)  # the parent's next bytes: not the child's


@pytest.mark.parametrize("size", [0, -1, POOL_SIZE + 1])
def test_refuses_sizes_a_pool_cannot_give(size: int) -> None:
    with pytest.raises(ValueError, match="random_bytes takes"):
        random_bytes(size)
