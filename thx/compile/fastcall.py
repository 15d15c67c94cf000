"""The call fast path: a closure for the common Function call (no updates, shared values or statics).

``Function.__call__`` validates arguments, handles keyword arguments,
defaults, shared variables, updates, static arguments and shape buckets.  A
function without updates, shared variables or static arguments, called with
all its inputs by position as NumPy arrays of the exact type (or floats for
float64 scalars), needs none of that: :func:`fast_call` builds a
closure with everything it reads bound as locals.  Anything else makes the
closure answer :data:`SLOW`, and ``__call__`` takes its full path (which also
raises Theano's errors).  Outputs are fresh writable NumPy arrays as always.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["SLOW", "fast_call"]

SLOW = object()  # "take the full path"


def fast_call(f: Any) -> Callable[[tuple], Any] | None:
    """The fast path of Function ``f`` (a callable of the positional argument tuple), or None
    when ``f`` has updates, shared variables, static arguments or returns device arrays.

    A function with array inputs takes it only while the shapes are those of its first call
    (the shape-bucket watch, ``f._watch``, see thx/compile/buckets.py) or once the watch is off.
    """
    specs = tuple(f._fast_dtypes)
    if (f._has_updates or f._shared or f._statics or f.return_device_arrays
            or any(s is None for s in specs)):
        return None
    from thx.lowering.checks import split_status  # compile loads lowering lazily (see function.py)
    from thx.lowering.linker import x64
    n_in, n_fg_out, n_out, unpack = f._n_in, f._n_fg_out, f._n_out, f._unpack
    array, float64, ndarray = np.array, np.float64, np.ndarray
    scalars_only = all(s[1] == 0 for s in specs)

    def finish(outs) -> Any:
        if len(outs) > n_fg_out:  # a run-time check's status follows the outputs
            outs = split_status(outs, n_fg_out)
        if unpack:
            return array(outs[0])
        return [array(r) for r in outs[:n_out]]

    if n_in == 1 and scalars_only and unpack:  # unrolled: Theano's tutorial function f(4.0)
        (dtype, _, _, from_float), = specs

        def call(args: tuple) -> Any:
            if len(args) != 1:
                return SLOW
            v = args[0]
            tv = type(v)
            if (tv is float or tv is float64) and from_float:
                v = float64(v)
            elif tv is not ndarray or v.dtype != dtype or v.ndim:
                return SLOW
            try:
                with x64(True):
                    outs = f.jax_fn(v)
            except Exception:  # the full path runs it again and raises thx's error
                return SLOW
            return array(outs[0]) if len(outs) == n_fg_out else finish(outs)
        return call

    def call(args: tuple) -> Any:
        if len(args) != n_in:
            return SLOW
        vals = []
        for v, (dtype, ndim, broadcastable, from_float) in zip(args, specs):
            tv = type(v)
            if tv is ndarray and v.dtype == dtype and v.ndim == ndim and not broadcastable:
                vals.append(v)
            elif (tv is float or tv is float64) and from_float:
                vals.append(float64(v))
            else:
                return SLOW
        watch = f._watch  # the shape-bucket watch: the fast path only for the first call's shapes
        if watch is not None and watch != tuple(np.shape(v) for v in vals):
            return SLOW
        try:
            with x64(True):
                outs = f.jax_fn(*vals)
        except Exception:  # the full path runs it again and raises thx's error
            return SLOW
        return finish(outs)

    return call
