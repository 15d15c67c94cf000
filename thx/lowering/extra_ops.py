"""JAX lowering of thx/tensor/extra_ops.py (the data-sized ops are in ``data_sized.py``)."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from thx.lowering.checks import runtime_check
from thx.lowering.registry import as_int, is_concrete, register
from thx.tensor.extra_ops import (Bartlett, CumOp, FillDiagonal, FillDiagonalOffset, RavelMultiIndex,
                                  SearchsortedOp, UnravelIndex)


@register(CumOp)
def _cum(op, node):
    fn = jnp.cumsum if op.mode == "add" else jnp.cumprod
    dtype = np.dtype(node.outputs[0].dtype)

    def impl(x):
        x = jnp.asarray(x)
        out = fn(jnp.ravel(x), axis=0) if op.axis is None else fn(x, axis=op.axis)
        return out if out.dtype == dtype else out.astype(dtype)
    return impl


@register(Bartlett, static_inputs=(0,))
def _bartlett(op, node):
    return lambda M: np.bartlett(as_int(M, "bartlett M (the window length)")).astype(np.float64)


@register(FillDiagonal)
def _fill_diagonal(op, node):
    def impl(a, val):
        shp = np.shape(a)
        if len(shp) > 2 and len(set(shp)) > 1:
            raise ValueError(f"fill_diagonal: all dimensions of a tensor of more than two "
                             f"dimensions must have equal length, got shape {shp}")
        k = jnp.arange(min(shp))
        return jnp.asarray(a).at[(k,) * len(shp)].set(val)
    return impl


@register(FillDiagonalOffset)
def _fill_diagonal_offset(op, node):
    def impl(a, val, offset):
        h, w = np.shape(a)
        # the entries (i, i + offset): a mask, so that a traced offset needs no shape
        on = (jnp.arange(w)[None, :] - jnp.arange(h)[:, None]) == jnp.asarray(offset).astype(jnp.int64)
        return jnp.where(on, jnp.asarray(val), a)
    return impl


def _strides(dims: list, order: str) -> list:
    """Element strides of a tensor of shape ``dims`` (row-major for 'C', column-major for 'F')."""
    n = len(dims)
    out = [None] * n
    acc: Any = 1
    for k in (range(n - 1, -1, -1) if order == "C" else range(n)):
        out[k] = acc
        acc = acc * dims[k]
    return out


@register(RavelMultiIndex)
def _ravel_multi_index(op, node):
    def impl(*vals):
        *idx, dims = vals
        if is_concrete(*vals):
            return np.asarray(np.ravel_multi_index(tuple(np.asarray(i) for i in idx),
                                                   tuple(int(d) for d in np.asarray(dims)),
                                                   mode=op.mode, order=op.order), dtype=np.int64)
        dims = jnp.asarray(dims).astype(jnp.int64)
        ds = [dims[k] for k in range(len(idx))]
        out: Any = 0
        for i, d, s in zip(idx, ds, _strides(ds, op.order)):
            i = jnp.asarray(i).astype(jnp.int64)
            if op.mode == "raise":
                runtime_check(jnp.any((i < 0) | (i >= d)), ValueError,
                              "ravel_multi_index: invalid entry in coordinates array")
            elif op.mode == "wrap":
                i = jnp.mod(i, d)
            else:
                i = jnp.clip(i, 0, d - 1)
            out = out + i * s
        return jnp.broadcast_to(out, np.broadcast_shapes(*[np.shape(i) for i in idx]))
    return impl


@register(UnravelIndex)
def _unravel_index(op, node):
    n = len(node.outputs)

    def impl(indices, dims):
        if is_concrete(indices, dims):
            res = np.unravel_index(np.asarray(indices), tuple(int(d) for d in np.asarray(dims)), order=op.order)
            res = [np.asarray(r, dtype=np.int64) for r in res]
            return res[0] if n == 1 else tuple(res)
        dims = jnp.asarray(dims).astype(jnp.int64)
        ds = [dims[k] for k in range(n)]
        i = jnp.asarray(indices).astype(jnp.int64)
        size = ds[0]
        for d in ds[1:]:
            size = size * d
        bad = (i < 0) | (i >= size)
        runtime_check(jnp.any(bad), ValueError, "unravel_index: index {} is out of bounds for the "
                      "shape dims", jnp.max(jnp.where(bad, i, jnp.iinfo(jnp.int64).min)))
        res = [i // s % d for d, s in zip(ds, _strides(ds, op.order))]
        return res[0] if n == 1 else tuple(res)
    return impl


@register(SearchsortedOp)
def _searchsorted(op, node):
    def impl(x, v, *sorter):
        if sorter:
            x = jnp.asarray(x)[jnp.asarray(sorter[0])]
        return jnp.searchsorted(x, v, side=op.side).astype(jnp.int64)
    return impl
