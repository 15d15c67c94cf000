"""The exact peak heap of a stretch of code, for the benchmarks' memory columns.

A process's peak resident size (``VmHWM``) moves by several hundred KB from one
process to the next for the same work: page faults on heap pages the allocator
had given back, its caches, what XLA's threads touch first.  That hides the
difference between two programs whose buffers differ by less.  ``heap_peak.c``
(beside this file) counts allocations instead: loaded into a fresh process
with ``LD_PRELOAD``, it records every allocation of 4 KB or more made through
the C allocator after :func:`reset` until it is freed, and :func:`peak` is the
largest total alive at once: XLA's buffers, its runtime's workspaces (a GEMM's
packed operands) and any copies of the arguments, to the byte.  Put the
arguments on the device before the reset: whether XLA copies a NumPy argument
depends on the alignment of its address, which changes from one process to
the next.

Use: the parent gets an environment with :func:`environment` (``None`` when no
C compiler is found: the column is then left out) and starts a subprocess with
it; the subprocess calls :func:`reset`, runs the code, reads :func:`peak`.
Linux with glibc only (``LD_PRELOAD``, ``malloc`` interposition).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["SOURCE", "library", "environment", "reset", "peak"]

SOURCE = Path(__file__).with_name("heap_peak.c")
_ENV = "THX_BENCH_HEAP_PROBE"  # the library's path, in the measured process


def library() -> Path | None:
    """The compiled probe (built once per source version into the temporary directory), or
    ``None`` when this is not Linux or no C compiler (``cc``, ``gcc``, ``clang``) is found."""
    if not sys.platform.startswith("linux"):
        return None
    cc = next((p for p in (shutil.which(c) for c in ("cc", "gcc", "clang")) if p), None)
    if cc is None:
        return None
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:16]
    out = Path(tempfile.gettempdir()) / f"thx-heap-peak-{digest}.so"
    if not out.exists():
        tmp = out.with_suffix(f".{os.getpid()}.tmp")
        subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", str(tmp), str(SOURCE), "-ldl", "-lpthread"],
                       check=True, capture_output=True)
        tmp.replace(out)  # atomic: concurrent builders never load a half-written file
    return out


def environment(base: dict | None = None) -> dict | None:
    """``base`` (default: this process's environment) with the probe preloaded, or ``None``
    when it cannot be built."""
    lib = library()
    if lib is None:
        return None
    env = dict(os.environ if base is None else base)
    env["LD_PRELOAD"] = " ".join(p for p in (str(lib), env.get("LD_PRELOAD", "")) if p)
    env[_ENV] = str(lib)
    return env


def _probe() -> ctypes.CDLL:
    path = os.environ.get(_ENV)
    if not path:
        raise RuntimeError("the heap probe is not loaded: start this process with bench.heap.environment()")
    lib = ctypes.CDLL(path)  # the preloaded copy: dlopen of a loaded path returns it
    lib.heap_peak_bytes.restype = ctypes.c_size_t
    return lib


def reset() -> None:
    """Start counting from zero: allocations made from now on, until freed."""
    _probe().heap_peak_reset()


def peak() -> int:
    """The largest number of bytes allocated since :func:`reset` and alive at once."""
    return int(_probe().heap_peak_bytes())
