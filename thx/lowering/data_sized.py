"""JAX lowering of thx/tensor/data_sized.py: ``BinCount``, ``Unique``, ``FlatNonzero``,
``RepeatIndex``.

These ops are host barriers: at the top level of a function they run between jitted segments
with concrete inputs (``segments.segmented_jit``), compute with NumPy the very function their
``perform`` uses, and hand a device array to the next segment, which is compiled for its
length.  Given traced inputs (inside a loop's step, where no host runs between segments)
``bincount`` uses a constant ``minlength`` as its length with a run-time check, and the others
raise an error that says why.  A ``RepeatIndex`` with constant repeats has a static length and
lowers into the program like any op.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from thx.lowering.checks import runtime_check
from thx.lowering.registry import is_concrete, register
from thx.lowering.segments import host_step
from thx.tensor.data_sized import (NEGATIVE_ASSERT, NEGATIVE_VALUE, BinCount, FlatNonzero,
                                   RepeatIndex, Unique, bincount_numpy, repeat_index_numpy,
                                   unique_numpy)


def _traced(*values: Any) -> bool:
    return any(isinstance(v, jax.core.Tracer) for v in values)


def _in_a_loop(what: str) -> NotImplementedError:
    return NotImplementedError(
        f"{what}: the length of its output depends on the values of its input, so thx computes "
        f"it on the host between jitted segments; that is impossible inside a traced context "
        f"(a scan or map step). Use it at the top level of the function.")


@register(BinCount)
def _bincount(op, node):
    dtype = np.dtype(node.outputs[0].dtype)
    has_weights = len(node.inputs) == 3

    def impl(*vals):
        x, w, minlength = (vals[0], vals[1], vals[2]) if has_weights else (vals[0], None, vals[1])
        if not _traced(*vals):  # the host step between segments
            return host_step(bincount_numpy, np.asarray(x), None if w is None else np.asarray(w),
                            np.asarray(minlength), op.assert_nonneg, dtype.name)
        if not is_concrete(minlength) or int(np.asarray(minlength)) <= 0:
            raise NotImplementedError(
                "bincount inside a traced context (a scan or map step): its length max(x) + 1 is "
                "only known at run time; give minlength as a constant upper bound (the output then "
                "has exactly minlength bins, and a larger value raises an error), or call it at "
                "the top level of the function")
        n = int(np.asarray(minlength))
        if w is not None and np.shape(w) != np.shape(x):
            raise ValueError(f"bincount: weights and x must have the same length, got "
                             f"{np.shape(w)[0]} weights for {np.shape(x)[0]} values")
        x = jnp.asarray(x).astype(jnp.int64)
        if np.shape(x)[0]:
            low, high = jnp.min(x), jnp.max(x)
            runtime_check(low < 0, AssertionError if op.assert_nonneg else ValueError,
                          NEGATIVE_ASSERT if op.assert_nonneg else NEGATIVE_VALUE, low)
            runtime_check(high >= n, ValueError,
                          f"bincount inside a loop step: x holds {{}}, but its output has the "
                          f"fixed length minlength={n}; give a larger minlength", high)
        ones = jnp.ones(np.shape(x), dtype) if w is None else jnp.asarray(w).astype(dtype)
        return jnp.zeros((n,), dtype).at[x].add(ones, mode="drop")
    return impl


@register(Unique)
def _unique(op, node):
    n_out = len(node.outputs)

    def impl(x):
        if _traced(x):
            raise _in_a_loop("unique")
        outs = host_step(unique_numpy, op, np.asarray(x))
        return outs[0] if n_out == 1 else tuple(outs)
    return impl


@register(FlatNonzero)
def _flatnonzero(op, node):
    def impl(a):
        if _traced(a):
            raise _in_a_loop("compress, nonzero, flatnonzero or nonzero_values (FlatNonzero: the "
                             "positions of the non-zero entries)")
        return host_step(lambda v: np.flatnonzero(v).astype(np.int64), np.asarray(a))
    return impl


@register(RepeatIndex)
def _repeat_index(op, node):
    if op.repeats is not None:  # a static length: a constant, after a check of n
        index = repeat_index_numpy(len(op.repeats), op.repeats)

        def fixed(n):
            runtime_check(jnp.asarray(n) != len(op.repeats), ValueError,
                          f"repeat: repeats has {len(op.repeats)} entries for an axis of length {{}}", n)
            return jnp.asarray(index)
        return fixed

    def impl(n, repeats):
        if _traced(n, repeats):
            raise _in_a_loop("repeat with symbolic repeats (RepeatIndex: the positions it takes)")
        return host_step(repeat_index_numpy, np.asarray(n), np.asarray(repeats))
    return impl
