"""JAX lowering of thx/tensor/math.py: reductions, dot, softmax."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax
import numpy as np

from thx.lowering.registry import is_concrete, register
from thx.tensor.math import (All, Any, Argmax, Argmin, BlockedDot, Dot, LogSoftmax, Max, Min, Prod, Softmax,
                             Sum)

_REDUCE = {Sum: (jnp.sum, np.sum), Prod: (jnp.prod, np.prod), Max: (jnp.max, np.max),
           Min: (jnp.min, np.min), Any: (jnp.any, np.any), All: (jnp.all, np.all)}


@register(Sum, Prod, Max, Min, Any, All)
def _reduce(op, node):
    jfn, nfn = _REDUCE[type(op)]
    nd = node.inputs[0].ndim
    axis = tuple(range(nd)) if op.axis is None else op.axis
    dtype = np.dtype(node.outputs[0].dtype)
    accumulates = type(op) in (Sum, Prod)
    acc = np.dtype(op.accumulator_dtype(node.inputs[0].dtype)) if accumulates else None

    def impl(x):
        if is_concrete(x):
            return np.asarray(nfn(x, axis=axis, dtype=acc) if accumulates else nfn(x, axis=axis),
                              dtype=dtype)
        out = jfn(x, axis=axis, dtype=acc) if accumulates else jfn(x, axis=axis)
        return out if out.dtype == dtype else out.astype(dtype)

    return impl


@register(Argmax, Argmin)
def _argmax(op, node):
    jfn = jnp.argmin if isinstance(op, Argmin) else jnp.argmax

    def impl(x):
        if op.axis is None:
            return jfn(jnp.ravel(x)).astype(jnp.int64)
        return jfn(x, axis=op.axis).astype(jnp.int64)

    return impl


@register(Dot)
def _dot(op, node):
    dtype = np.dtype(node.outputs[0].dtype)
    # dot(m.T, v) -> dot(v, m): XLA fuses a transposed copy of m into a matrix-vector product
    # (a gradient's usual shape, e.g. logistic regression's), 20% slower than contracting m's
    # first axis; transpose(m.T) cancels in XLA, so m is read as stored.
    a = node.inputs[0]
    vec_times_transpose = (node.inputs[1].ndim == 1 and a.ndim == 2 and a.owner is not None
                           and getattr(a.owner.op, "new_order", None) == (1, 0))

    def impl(x, y):
        if x.dtype != dtype or y.dtype != dtype:  # Theano's dtype: float32 . int32 is float64
            x, y = jnp.asarray(x).astype(dtype), jnp.asarray(y).astype(dtype)
        out = jnp.dot(y, jnp.transpose(x)) if vec_times_transpose and not is_concrete(x) else jnp.dot(x, y)
        return out if out.dtype == dtype else out.astype(dtype)

    return impl


# the packing workspace of one block's product: (m + n) * block * itemsize bytes at most
_BLOCK_BYTES = 256 * 1024
_MIN_BLOCK = 16


def block_rows(m: int, n: int, k: int, itemsize: int) -> int:
    """Rows of the shared axis per block of a :class:`BlockedDot` ``[m, k] x [k, n]``.

    ``k`` (one product) when the workspace one GEMM packs, ``(m + n) * k * itemsize`` bytes,
    is less than twice what the blocked sum adds: a second ``m x n`` buffer (the running sum
    beside each block's product) and a block's workspace (the vector LSTM's weight gradient
    over 100 steps packs 512 KB: summed in two blocks, the gradient's XLA memory grew by 400 KB
    and its peak RSS by as much).  Otherwise the fewest blocks of equal size whose GEMM packs
    its operands within ``_BLOCK_BYTES`` (at least ``_MIN_BLOCK`` rows); the last block takes
    what is left over."""
    most = max(_MIN_BLOCK, _BLOCK_BYTES // max(1, (m + n) * itemsize))
    if k <= most or (m + n) * k * itemsize <= 2 * (m * n * itemsize + _BLOCK_BYTES):
        return int(k)
    n_blocks = -(-k // most)
    return int(-(-k // n_blocks))


@register(BlockedDot)
def _blocked_dot(op, node):
    dtype = np.dtype(node.outputs[0].dtype)

    def impl(x, y):
        if x.dtype != dtype or y.dtype != dtype:
            x, y = jnp.asarray(x).astype(dtype), jnp.asarray(y).astype(dtype)
        if is_concrete(x) and is_concrete(y):
            return np.asarray(np.dot(x, y), dtype=dtype)
        (m, k), n = x.shape, y.shape[1]
        c = block_rows(m, n, k, dtype.itemsize)
        if c >= k:
            return jnp.dot(x, y)
        nb, rest = divmod(k, c)
        # the blocks are read from x's stored [k, m] layout (x is a transposed stack of steps:
        # XLA cancels the two transposes) by index, so no sliced copy of either operand is made
        xt = jnp.transpose(x)

        def block(i, acc):
            a = lax.dynamic_slice_in_dim(xt, i * c, c, 0)
            b = lax.dynamic_slice_in_dim(y, i * c, c, 0)
            return acc + jnp.dot(jnp.transpose(a), b)

        # the sum starts from a product (the rows left over, or the first block), not from zeros:
        # a zero-filled start was one more m x n buffer in XLA's memory
        first = nb * c if rest else nb * c - c
        acc0 = jnp.dot(jnp.transpose(xt[first:]), y[first:])
        return lax.fori_loop(0, nb if rest else nb - 1, block, acc0)

    return impl


@register(Softmax)
def _softmax(op, node):
    return lambda x: jax.nn.softmax(x, axis=-1)


@register(LogSoftmax)
def _logsoftmax(op, node):
    return lambda x: jax.nn.log_softmax(x, axis=-1)
