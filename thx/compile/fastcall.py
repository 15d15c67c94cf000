"""The call fast path: a closure for the common Function call (no updates, shared values or statics).

``Function.__call__`` handles keyword arguments, defaults, shared variables,
updates, static arguments and shape buckets.  A function without updates,
shared variables or static arguments, called with all its inputs by
position, needs none of that: :func:`fast_call` builds a closure with
everything it reads bound as locals.  It checks the arguments as the full
path does (exact-typed arrays and floats inline, anything else through
``Function._check``, the one place of Theano's rules and errors), calls the
jitted function once, and converts the outputs with the Function's converter
(``thx/compile/outputs.py``).  It answers :data:`SLOW`, for the full path to
take the call, only before calling: another number of arguments, or shapes
the shape-bucket watch must see.  An error of the jitted call is raised from
here, built by the full path's ``shared_state.retry_read``: the jitted
function never runs twice for one call (a ``Print`` op prints once).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

import numpy as np

from thx.compile.shared_state import retry_read

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
    from thx.lowering.linker import x64_restore, x64_swap
    n_in, n_fg_out, convert, check = f._n_in, f._n_fg_out, f._convert, f._check
    float64, ndarray = np.float64, np.ndarray
    runtime_error = f._helpers()[0]

    def fail(e: Exception, vals: list) -> NoReturn:  # the full path's error (no retry: no shared)
        retry_read(f, vals, e, runtime_error)
        raise e  # pragma: no cover - retry_read raises

    if n_in == 1:  # unrolled: Theano's tutorial function f(4.0), the scan Jacobian's f(x)
        (dtype, ndim, broadcastable, from_float), = specs
        # one 0-d output (the tutorial's, or bench's [grad]): the converter's copy, inlined
        array, unpack = np.array, f._unpack
        copy_one = f._n_out == 1 and getattr(f.maker.fgraph.outputs[0].type, "ndim", None) == 0

        def call(args: tuple) -> Any:
            if len(args) != 1:
                return SLOW
            v = args[0]
            tv = type(v)
            if tv is ndarray and v.dtype == dtype and v.ndim == ndim and not broadcastable:
                shape = v.shape
            elif (tv is float or tv is float64) and from_float:
                v, shape = float64(v), ()
            else:
                v = check(0, v)
                shape = np.shape(v)
            if ndim:  # the shape-bucket watch: the fast path only for the first call's shape
                watch = f._watch
                if watch is not None and (type(watch) is not tuple or watch[0] != shape):
                    return SLOW
            prev = x64_swap(True)
            try:
                outs = f.jax_fn(v)  # read per call: thx.distributed may wrap it after compiling
            except Exception as e:
                fail(e, [v])
            finally:
                x64_restore(prev)
            if len(outs) > n_fg_out:  # a run-time check's status follows the outputs
                outs = split_status(outs, n_fg_out)
            if copy_one:
                r = array(outs[0])
                return r if unpack else [r]
            return convert(outs, (v,))
        return call

    def call(args: tuple) -> Any:
        if len(args) != n_in:
            return SLOW
        vals = []
        shapes = []
        k = 0
        for v, (dtype, ndim, broadcastable, from_float) in zip(args, specs):
            tv = type(v)
            if tv is ndarray and v.dtype == dtype and v.ndim == ndim and not broadcastable:
                shapes.append(v.shape)
            elif (tv is float or tv is float64) and from_float:
                v = float64(v)
                shapes.append(())
            else:
                v = check(k, v)
                shapes.append(np.shape(v))
            vals.append(v)
            k += 1
        watch = f._watch  # the shape-bucket watch: the fast path only for the first call's shapes
        if watch is not None and (type(watch) is not tuple or watch != tuple(shapes)):
            return SLOW
        prev = x64_swap(True)
        try:
            outs = f.jax_fn(*vals)
        except Exception as e:
            fail(e, vals)
        finally:
            x64_restore(prev)
        if len(outs) > n_fg_out:
            outs = split_status(outs, n_fg_out)
        return convert(outs, vals)

    return call
