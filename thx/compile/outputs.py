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
the copy costs less than the checks (about 1.5 µs).  The writable array is
made by ``np.ndarray`` over a ``ctypes`` byte array at the buffer's address
(``_Owned``), which holds the ``jax.Array``.  ``return_device_arrays``
returns the ``jax.Array`` objects.  Layering: JAX is only duck-typed here.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["ZERO_COPY_BYTES", "converter", "to_numpy"]

# Below this many bytes an output is copied (measured on the CPU: 64 KiB copies in ~4 µs, the
# zero-copy checks take ~1.5 µs but the first call's checks more; 8 MB copies in 0.25-1 ms).
ZERO_COPY_BYTES = 1 << 16


class _Owned:
    """The base of a zero-copy output: a ``ctypes`` byte array over XLA's buffer (writable; its
    class is made per size by :func:`_buffer_type`), with the ``jax.Array`` kept alive as its
    ``array`` attribute.  ``np.ndarray(shape, dtype, buffer)`` over it takes about 0.7 µs, half of
    ``np.asarray`` of an object with an ``__array_interface__``."""

    __slots__ = ()


# (shape, dtype) of an output -> the _Owned class of its size, or None below ZERO_COPY_BYTES
_BUFFER_TYPES: dict[tuple, type | None] = {}
_UNKNOWN = object()


def _buffer_type(shape: tuple, dtype: Any) -> type | None:
    """The ``_Owned`` ctypes byte-array class for an array of ``shape`` and ``dtype``, or None
    when it is smaller than ``ZERO_COPY_BYTES`` (cached: a class per output size)."""
    size = dtype.itemsize
    for d in shape:
        size *= d
    if len(_BUFFER_TYPES) > 256:  # a function called at many shapes: do not keep every class
        _BUFFER_TYPES.clear()
    t = None
    if size >= ZERO_COPY_BYTES:
        t = type(f"_Owned{size}", (ctypes.c_char * size, _Owned), {"__slots__": ("array",)})
    _BUFFER_TYPES[shape, dtype] = t
    return t


_getrefcount = sys.getrefcount
_ndarray = np.ndarray
_may_share_memory = np.may_share_memory


def _refs(outs: Sequence[Any], k: int) -> int:
    return _getrefcount(outs[k])


# References to an object held only by the one slot of a sequence, as _refs counts them
_ALONE = _refs((object(),), 0)


def _copy_object(r: Any) -> Any:
    """A fresh copy of an output that is not a tensor (a SciPy sparse matrix, or the padded
    arrays a jitted segment made of one: ``to_host_value`` gives a new SciPy matrix)."""
    if hasattr(r, "to_host_value"):
        return r.to_host_value()
    if isinstance(r, (np.ndarray, np.generic)) or hasattr(r, "__array__"):
        return np.array(r)
    return r.copy() if hasattr(r, "copy") else r


def _hits(o: Any, view: np.ndarray, lo: int, hi: int) -> bool:
    """Whether ``o`` (an argument or another output) may share memory with ``view`` ([lo, hi))."""
    if type(o) is np.ndarray or isinstance(o, np.ndarray):
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


def to_numpy(outs: Sequence[Any], k: int, args: Sequence[Any], host: bool = False,
             memo: list | None = None) -> np.ndarray:
    """Output ``k`` of ``outs`` (what the jitted function returned, updates included) as a
    fresh writable NumPy array: the XLA buffer itself when large and safe (module docstring),
    else a copy.  ``args``: the arguments of the call.  ``host``: the function's outputs are
    known to be C-ordered host memory (an earlier output of it was viewed in place), which
    skips making NumPy's read-only view first.  ``memo``: a one-slot list holding the tuple
    ``(shape, dtype, buffer class)`` of this output's last call, kept by the caller (the
    converter keeps one per output; one tuple, read and replaced whole, so that threads
    calling the function at once never mix two calls' shapes).

    This runs on every call of a function with a large output, so each step is written for
    speed: about 1 µs in all on the CPU (no generator; the buffer's class is remembered per
    output and cached by shape and dtype; the array is made over a ctypes buffer, half the
    cost of ``np.asarray`` of an ``__array_interface__``)."""
    if _getrefcount(outs[k]) > _ALONE:  # (as _refs counts)
        return np.array(outs[k])
    r = outs[k]  # (after counting the references to it)
    last = memo[0] if memo is not None else None
    try:
        shape = r.shape
        if last is not None and last[0] == shape:  # an output keeps its dtype: the last call's
            dtype, buffer = last[1], last[2]
        else:
            dtype = r.dtype
            buffer = _BUFFER_TYPES.get((shape, dtype), _UNKNOWN)  # (one lookup: threads may clear)
            if buffer is _UNKNOWN:
                buffer = _buffer_type(shape, dtype)
            if memo is not None:
                memo[0] = (shape, dtype, buffer)
        if buffer is None:  # small: the copy costs less than the checks
            return np.array(r)
        lo = r.unsafe_buffer_pointer()  # (does not wait for the result: see below)
    except Exception:  # not a jax.Array, or sharded over several devices
        return np.array(r)
    if host:
        r.block_until_ready()  # XLA may still be writing the buffer
    else:
        view = np.asarray(r)  # waits; on the CPU a read-only view of the buffer, else a copy
        if (type(view.base) is not memoryview or not view.flags.c_contiguous
                or view.__array_interface__["data"][0] != lo):
            return np.array(view)
    base = buffer.from_address(lo)
    base.array = r  # keeps XLA's buffer alive as long as the NumPy array
    out = _ndarray(shape, dtype, base)
    if len(outs) > 1:
        hi = lo + buffer._length_
        for j in range(len(outs)):
            if j != k and _hits(outs[j], out, lo, hi):
                return np.array(out)
    for a in args:
        if type(a) is _ndarray:
            if _may_share_memory(a, out):
                return np.array(out)
        elif _hits(a, out, lo, lo + buffer._length_):
            return np.array(out)
    return out


def converter(n_out: int, unpack: bool, device_arrays: bool, ndims: Sequence[int | None],
              may_alias: Callable[[], bool] | None = None) -> Callable[[Sequence[Any], Sequence[Any]], Any]:
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
    may_alias : callable, optional
        ``may_alias()``: whether an output may share an argument's memory (the jitted
        function's ``trace_counter.outputs_alias_inputs``); when it says no, the arguments
        are not compared with the outputs (about 0.3 µs per NumPy argument).  None: compare.

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
    objects = frozenset(k for k in range(n_out) if ndims[k] is None)  # not tensors: SciPy matrices
    if objects:
        def convert_objects(outs: Sequence[Any], args: Sequence[Any]) -> Any:
            res = [_copy_object(outs[k]) if k in objects else array(outs[k]) for k in range(n_out)]
            return res[0] if unpack else res
        return convert_objects
    large = frozenset(k for k in range(n_out) if ndims[k] != 0)
    if not large:  # all scalars: the plain copy (the tutorial's f(4.0) ends here)
        if unpack:
            return lambda outs, args: array(outs[0])
        return lambda outs, args: [array(r) for r in outs[:n_out]]

    host = [False]  # set once an output was viewed in place: the device's memory is the host's
    aliasing = may_alias or (lambda: True)
    memos = [[None] for _ in range(n_out)]

    if unpack:  # the one output, not 0-d
        memo = memos[0]

        def convert_one(outs: Sequence[Any], args: Sequence[Any]) -> np.ndarray:
            if host[0]:
                # The steady state of a map's Jacobian or Hessian, inlined (about 0.6 µs less
                # than through to_numpy): the one output, of the last call's shape, large, held
                # by nothing else, on the host, and no argument it may alias.
                last = memo[0]
                if (last is not None and len(outs) == 1 and _getrefcount(outs[0]) == _ALONE
                        and last[2] is not None and not aliasing()):
                    r = outs[0]
                    try:
                        if r.shape == last[0]:
                            lo = r.unsafe_buffer_pointer()
                            r.block_until_ready()  # XLA may still be writing the buffer
                            base = last[2].from_address(lo)
                            base.array = r
                            return _ndarray(last[0], last[1], base)
                    except Exception:  # not a jax.Array, or sharded: the general path
                        pass
                    # A new shape: to_numpy counts the references to the output, and this
                    # one made it copy at every call of that shape (its memo never updated).
                    del r
                return to_numpy(outs, 0, args if aliasing() else (), True, memo)
            r = to_numpy(outs, 0, args if aliasing() else (), False, memo)
            if isinstance(r.base, _Owned):
                host[0] = True
            return r
        return convert_one

    kinds = [(k, k in large, memos[k]) for k in range(n_out)]

    def convert(outs: Sequence[Any], args: Sequence[Any]) -> list:
        seen = args if aliasing() else ()  # (one question per call, not per output)
        on_host = host[0]
        res = []
        for k, big, memo in kinds:
            if big:
                r = to_numpy(outs, k, seen, on_host, memo)
                if not on_host and isinstance(r.base, _Owned):
                    host[0] = on_host = True
            else:
                r = array(outs[k])
            res.append(r)
        return res

    return convert
