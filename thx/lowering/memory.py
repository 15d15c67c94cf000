"""Give the memory of freed XLA executables back to the system.

An XLA executable for the CPU holds about a megabyte of native memory (its
machine code and buffers).  When thx drops one (its Function and compile
cache entry are gone), JAX frees it, but glibc's allocator keeps the freed
pages in its heap: a process that compiled and dropped hundreds of
functions kept their peak footprint (about 1.2 MB per function, issue 16).
``track`` counts each jitted function's death; every ``TRIM_EVERY`` deaths,
and on ``thx.compile.cache.clear()``, ``release`` asks glibc to return free
heap pages to the system (``malloc_trim``, a few milliseconds at most).
Elsewhere than glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
import weakref
from typing import Any

__all__ = ["track", "release", "TRIM_EVERY", "stats"]

TRIM_EVERY = 8  # dropped jitted functions between two trims
_STATE = {"dropped": 0, "pending": 0, "trims": 0}
_LOCK = threading.Lock()


def _load_trim() -> Any:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_TRIM = _load_trim()


def release() -> None:
    """Return the allocator's free pages to the system now."""
    with _LOCK:
        _STATE["pending"] = 0
        _STATE["trims"] += 1
    if _TRIM is not None:
        _TRIM(0)


def _dropped() -> None:
    with _LOCK:
        _STATE["dropped"] += 1
        _STATE["pending"] += 1
        due = _STATE["pending"] >= TRIM_EVERY
    if due:
        release()


def track(jitted: Any) -> Any:
    """Count ``jitted``'s death (its executables are freed then); returns ``jitted``."""
    try:
        weakref.finalize(jitted, _dropped)
    except TypeError:  # pragma: no cover - an object without weak references
        pass
    return jitted


def stats() -> dict:
    """``{'dropped', 'pending', 'trims'}``: jitted functions freed, not yet trimmed, trims done."""
    with _LOCK:
        return dict(_STATE)
