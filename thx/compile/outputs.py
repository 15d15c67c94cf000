"""A call's outputs as fresh writable NumPy arrays; a large one without a copy when that is safe.

Theano's contract: a function returns fresh, writable NumPy arrays that the
caller owns.  ``np.array`` of a ``jax.Array`` copies it (8 MB for a 1000 x
1000 Hessian, as long as the rest of the call); ``np.asarray`` is a read-only
view.  An output of at least ``ZERO_COPY_BYTES`` is handed out as a writable
NumPy array over the XLA output buffer itself (the array keeps the
``jax.Array`` alive as its base), when no one else can see that buffer:

* the ``jax.Array`` is referenced only by the call's result (JAX kept no other
  reference: no cache, no shared variable, no second output slot holds it);
* NumPy views it without a copy (host memory: the CPU; a GPU result is copied);
* it overlaps no argument of the call (JAX may forward an input to an output,
  and a NumPy argument may be used in place on the CPU; a donated argument's
  buffer belongs to the outputs) and no other output's buffer (updates too).

Anything else is copied, and so is every output below the threshold, where
the copy costs less than the checks (about 3 µs).  ``return_device_arrays``
returns the ``jax.Array`` objects.  Layering: JAX is only duck-typed here.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["ZERO_COPY_BYTES", "converter", "to_numpy"]

# Below this many bytes an output is copied: the copy is cheaper than the checks (measured on
# the CPU: 64 KiB copies in ~4 µs, the zero-copy checks take 3-5 µs; 8 MB copies in 0.25-1 ms).
ZERO_COPY_BYTES = 1 << 16


class _Owned:
    """The base of a zero-copy output: the ``jax.Array`` (kept alive) and NumPy's view of it."""

    __slots__ = ("__array_interface__", "array")

    def __init__(self, array: Any, interface: dict) -> None:
        self.array = array
        self.__array_interface__ = interface


def _refs(outs: Sequence[Any], k: int) -> int:
    return sys.getrefcount(outs[k])


# References to an object held only by the one slot of a sequence, as _refs counts them
_ALONE = _refs((object(),), 0)


def _hits(o: Any, view: np.ndarray, lo: int, hi: int) -> bool:
    """Whether ``o`` (an argument or another output) may share memory with ``view`` ([lo, hi))."""
    if isinstance(o, np.ndarray):
        return np.may_share_memory(o, view)
    pointer = getattr(o, "unsafe_buffer_pointer", None)
    if pointer is None:  # a Python or NumPy scalar: memory of its own
        return False
    try:
        if o.is_deleted():  # donated to this call: its buffer now belongs to an output
            return False
        p = pointer()
    except Exception:  # a sharded array, or an API that changed: cannot tell, assume it does
        return True
    return p < hi and lo < p + o.nbytes


def to_numpy(outs: Sequence[Any], k: int, args: Sequence[Any], host: bool = False) -> np.ndarray:
    """Output ``k`` of ``outs`` (what the jitted function returned, updates included) as a
    fresh writable NumPy array: the XLA buffer itself when large and safe (module docstring),
    else a copy.  ``args``: the arguments of the call.  ``host``: the function's outputs are
    known to be C-ordered host memory (an earlier output of it was viewed in place), which
    skips making NumPy's read-only view first (about 3 µs per call)."""
    if _refs(outs, k) > _ALONE or not hasattr(outs[k], "unsafe_buffer_pointer"):
        return np.array(outs[k])
    r = outs[k]  # (after counting the references to it)
    try:
        lo = r.unsafe_buffer_pointer()  # (does not wait for the result: see below)
    except Exception:  # sharded over several devices
        return np.array(r)
    shape, dtype = r.shape, r.dtype
    hi = lo + math.prod(shape) * dtype.itemsize
    if hi - lo < ZERO_COPY_BYTES:
        return np.array(r)
    if host:
        r.block_until_ready()  # XLA may still be writing the buffer
    else:
        view = np.asarray(r)  # waits; on the CPU a read-only view of the buffer, else a copy
        if (type(view.base) is not memoryview or not view.flags.c_contiguous
                or view.__array_interface__["data"][0] != lo):
            return np.array(view)
    out = np.asarray(_Owned(r, {"data": (lo, False), "shape": shape, "typestr": dtype.str, "version": 3}))
    if out.dtype != dtype:  # a dtype NumPy's interface does not describe (bfloat16 ...)
        return np.array(r)
    if any(_hits(o, out, lo, hi) for j, o in enumerate(outs) if j != k) \
            or any(_hits(a, out, lo, hi) for a in args):
        return np.array(out)
    return out


def converter(n_out: int, unpack: bool, device_arrays: bool,
              ndims: Sequence[int | None]) -> Callable[[Sequence[Any], Sequence[Any]], Any]:
    """The conversion ``(outs, args) -> result`` of a Function's call.

    Parameters
    ----------
    n_out : int
        Outputs returned (``outs`` may hold updates and a check status after them).
    unpack : bool
        Return the single output itself rather than a list.
    device_arrays : bool
        Return the ``jax.Array`` objects (``return_device_arrays``).
    ndims : sequence of int or None
        Each output's number of dimensions (None: not a tensor); 0-d ones are always copied.

    Returns
    -------
    callable
        ``convert(outs, args)``, ``args`` being the arguments passed to the jitted function.
    """
    if device_arrays:
        if unpack:
            return lambda outs, args: outs[0]
        return lambda outs, args: list(outs[:n_out])
    array = np.array
    large = frozenset(k for k in range(n_out) if ndims[k] != 0)
    if not large:  # all scalars: the plain copy (the tutorial's f(4.0) ends here)
        if unpack:
            return lambda outs, args: array(outs[0])
        return lambda outs, args: [array(r) for r in outs[:n_out]]

    host = [False]  # set once an output was viewed in place: the device's memory is the host's

    def one(outs: Sequence[Any], k: int, args: Sequence[Any]) -> np.ndarray:
        r = to_numpy(outs, k, args, host[0])
        if not host[0] and isinstance(r.base, _Owned):
            host[0] = True
        return r

    def convert(outs: Sequence[Any], args: Sequence[Any]) -> Any:
        res = [one(outs, k, args) if k in large else array(outs[k]) for k in range(n_out)]
        return res[0] if unpack else res

    return convert
