"""JAX lowering of thx/tensor/diagonal.py: ``jnp.diagonal``, and a scatter onto zeros for
``AllocDiag``."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from thx.lowering.registry import is_concrete, register
from thx.tensor.diagonal import AllocDiag, ExtractDiag, alloc_diag_numpy


@register(ExtractDiag)
def _extract_diag(op, node):
    def impl(x):
        if is_concrete(x):
            return np.diagonal(x, op.offset, op.axis1, op.axis2).copy()
        return jnp.diagonal(x, op.offset, op.axis1, op.axis2)
    return impl


@register(AllocDiag)
def _alloc_diag(op, node):
    a1, a2 = op._placed(node.inputs[0].ndim + 1)

    def impl(x):
        if is_concrete(x):
            return alloc_diag_numpy(np.asarray(x), op.offset, a1, a2)
        k = x.shape[-1]
        side = k + abs(op.offset)
        t = jnp.arange(k)
        out = jnp.zeros(x.shape[:-1] + (side, side), x.dtype)
        out = out.at[..., t + max(-op.offset, 0), t + max(op.offset, 0)].set(x)
        order = sorted([(a1, -2), (a2, -1)])
        return jnp.moveaxis(out, [src for _, src in order], [dst for dst, _ in order])
    return impl
