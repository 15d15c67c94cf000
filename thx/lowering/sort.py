"""JAX lowering of thx/tensor/sort.py: ``jnp.sort``/``jnp.argsort`` (stable) and ``lax.top_k``.

The sort axis and ``topk``'s ``kth`` are static inputs: the axis picks the dimension and ``kth``
sets the output's length, so both must be known while tracing.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax import lax

from thx.lowering.registry import as_int, is_concrete, register
from thx.tensor.sort import ArgSortOp, SortOp, TopKOp, check_kth, topk_numpy


@register(SortOp, static_inputs=(1,))
def _sort(op, node):
    def impl(a, axis):
        axis = as_int(axis, "sort axis")
        if is_concrete(a):
            return np.sort(a, axis=axis, kind="stable")
        return jnp.sort(a, axis=axis)
    return impl


@register(ArgSortOp, static_inputs=(1,))
def _argsort(op, node):
    def impl(a, axis):
        axis = as_int(axis, "argsort axis")
        if is_concrete(a):
            return np.argsort(a, axis=axis, kind="stable").astype(np.int64)
        return jnp.argsort(a, axis=axis, stable=True).astype(jnp.int64)
    return impl


@register(TopKOp, static_inputs=(1,))
def _topk(op, node):
    idx_dtype = np.dtype(op.idx_dtype)

    def impl(x, kth):
        k = as_int(kth, "topk kth (it sets the output length)")
        axis = op.axis % np.ndim(x)
        if is_concrete(x):
            vals, idx = topk_numpy(np.asarray(x), k, axis)
        else:
            check_kth(k, np.shape(x)[axis], axis)
            xm = jnp.moveaxis(x, axis, -1)
            if k > 0:
                vals, idx = lax.top_k(xm, k)  # descending; equal values in input order
            else:
                idx = jnp.argsort(xm, axis=-1, stable=True)[..., :-k]
                vals = jnp.take_along_axis(xm, idx, axis=-1)
            vals, idx = jnp.moveaxis(vals, -1, axis), jnp.moveaxis(idx, -1, axis)
        idx = idx.astype(idx_dtype)
        res = ([vals] if op.return_values else []) + ([idx] if op.return_indices else [])
        return res[0] if len(res) == 1 else tuple(res)
    return impl
