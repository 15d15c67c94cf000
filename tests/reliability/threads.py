"""Helpers shared by the load tests: run a target on N threads, read the resident memory."""

from __future__ import annotations

import os
import threading


def run_threads(target, n: int, timeout: float = 300) -> None:
    """Run ``target(k)`` for k in range(n), each on its own thread; re-raise the first error."""
    errors: list[BaseException] = []

    def wrapped(k):
        try:
            target(k)
        except BaseException as e:  # noqa: BLE001 - re-raised below
            errors.append(e)

    threads = [threading.Thread(target=wrapped, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads)
    if errors:
        raise errors[0]


def rss_mb() -> float:
    """This process's resident memory in MiB (Linux ``/proc/self/statm``)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20
