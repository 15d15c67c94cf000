"""JAX lowering of thx/tensor/subtensor.py (``x.at[idx].set/add`` for the increments)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from thx.lowering.registry import is_concrete, register
from thx.tensor.subtensor import (AdvancedIncSubtensor, AdvancedSubtensor, IncSubtensor, Subtensor,
                                  _build_index)


def _index_value(v):
    if is_concrete(v):
        a = np.asarray(v)
        return int(a) if a.ndim == 0 else a
    return v


def _check_bounds(index, shape):
    """Integer indices known while tracing must be in range: XLA would clamp them silently."""
    d = 0
    for e in index:
        if e is None:
            continue
        if d < len(shape) and not isinstance(e, slice) and is_concrete(e):
            a = np.asarray(e)
            n = shape[d]
            if a.size and (a.max() >= n or a.min() < -n):
                bad = int(a.max()) if a.max() >= n else int(a.min())
                raise IndexError(f"index {bad} is out of bounds for axis {d} with size {n}")
        d += 1


@register(Subtensor, AdvancedSubtensor)
def _subtensor(op, node):
    entries = op.idx_list

    def impl(x, *idx):
        index = _build_index(entries, [_index_value(i) for i in idx])
        _check_bounds(index, np.shape(x))
        if is_concrete(x, *idx):
            return np.asarray(np.asarray(x)[index])
        return jnp.asarray(x)[index]
    return impl


@register(IncSubtensor, AdvancedIncSubtensor)
def _inc_subtensor(op, node):
    entries = op.idx_list
    setting = op.set_instead_of_inc
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
        _check_bounds(index, np.shape(x))
        if all(isinstance(e, slice) and is_concrete(*[p for p in (e.start, e.stop, e.step) if p is not None])
               and e.indices(n) == (0, n, 1) for e, n in zip(index, np.shape(x))):
            return whole(x, y)  # x[0:] etc.: the whole array too (shapes are concrete here)
        ref = jnp.asarray(x).at[index]
        return ref.set(y) if setting else ref.add(y)
    return impl
