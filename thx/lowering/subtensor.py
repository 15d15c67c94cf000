"""JAX lowering of thx/tensor/subtensor.py (``x.at[idx].set/add`` for the increments)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from thx.config import config
from thx.lowering.checks import active, runtime_check
from thx.lowering.registry import is_concrete, register
from thx.tensor.subtensor import (AdvancedIncSubtensor, AdvancedSubtensor, IncSubtensor, Subtensor,
                                  _build_index)


def _index_value(v):
    if is_concrete(v):
        a = np.asarray(v)
        return int(a) if a.ndim == 0 else a
    return v


def _check_bounds(index, shape, traced: bool = True):
    """Integer indices must be in range (-n..n-1), as NumPy's: XLA would clamp them silently.

    Indices known while tracing raise IndexError at once; traced ones (when
    ``traced``, i.e. ``config.check_index``) become run-time checks.  One
    reduction per index array: ``i + n`` as an unsigned integer is below
    ``2n`` exactly when ``i`` is in range (a too negative ``i`` wraps to a
    huge value), so its maximum decides, and names an offending index: the
    most negative one if any, else the largest.
    """
    d = 0
    for e in index:
        if e is None:
            continue
        if d < len(shape) and not isinstance(e, slice):
            concrete = is_concrete(e)
            if (concrete or (traced and active())) and np.size(e) and np.dtype(getattr(e, "dtype", int)) != bool:
                n = shape[d]
                xp = np if concrete else jnp
                shifted = (xp.asarray(e).astype(np.int64) + n).astype(np.uint64)
                top = shifted.max() if np.ndim(e) else shifted
                runtime_check(top >= np.uint64(2 * n), IndexError,
                              f"index {{}} is out of bounds for axis {d} with size {n}",
                              top.astype(np.int64) - n)
        d += 1


@register(Subtensor, AdvancedSubtensor)
def _subtensor(op, node):
    entries = op.idx_list
    traced_check = config.check_index

    def impl(x, *idx):
        index = _build_index(entries, [_index_value(i) for i in idx])
        _check_bounds(index, np.shape(x), traced_check)
        if is_concrete(x, *idx):
            return np.asarray(np.asarray(x)[index])
        return jnp.asarray(x)[index]
    return impl


@register(IncSubtensor, AdvancedIncSubtensor)
def _inc_subtensor(op, node):
    entries = op.idx_list
    setting = op.set_instead_of_inc
    traced_check = config.check_index
    dtype = np.dtype(node.outputs[0].dtype)
    # x[:] = y / x[:] += y: a plain broadcast, not a scatter (a full-range scatter followed
    # by a reversed one also trips an XLA simplifier crash).
    def whole(x, y):
        if setting:
            return jnp.broadcast_to(jnp.asarray(y, dtype=dtype), jnp.shape(x))
        return (x + y).astype(dtype)

    if all(e == ("slice", None, None, None) for e in entries):
        return whole

    def impl(x, y, *idx):
        index = _build_index(entries, [_index_value(i) for i in idx])
        _check_bounds(index, np.shape(x), traced_check)
        if all(isinstance(e, slice) and is_concrete(*[p for p in (e.start, e.stop, e.step) if p is not None])
               and e.indices(n) == (0, n, 1) for e, n in zip(index, np.shape(x))):
            return whole(x, y)  # x[0:] etc.: the whole array too (shapes are concrete here)
        ref = jnp.asarray(x).at[index]
        return ref.set(y) if setting else ref.add(y)
    return impl
