"""JAX lowering of thx/tensor/math.py: reductions, dot, softmax."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax
import numpy as np

from thx.lowering.registry import is_concrete, register
from thx.tensor.math import (All, Any, Argmax, Argmin, Dot, LogSoftmax, Max, Min, Prod, RowwiseDot,
                             Softmax, Sum)

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


# How a RowwiseDot [m, k] x [k, n] is computed (k: the steps), by what one GEMM would pack,
# (m + n) * k * itemsize bytes (Eigen's workspace, beside XLA's buffers):
_GEMM_WORKSPACE_BYTES = 64 * 1024  # at most this: one GEMM
_ROWS_OPERAND_BYTES = 512 * 1024  # else, y (k x n) at most this (a core's L2): row by row
_BLOCK_BYTES = 256 * 1024  # else: blocks of steps whose GEMM packs at most this
_MIN_BLOCK = 16


def rowwise_plan(m: int, n: int, k: int, itemsize: int) -> tuple[str, int]:
    """How the lowering computes a :class:`RowwiseDot` ``[m, k] x [k, n]``: ``("gemm", k)``,
    ``("rows", k)`` or ``("blocks", c)``, ``c`` rows of the shared axis per block.

    * ``"gemm"``: one product, when the workspace it packs is small (``_GEMM_WORKSPACE_BYTES``).
    * ``"rows"``: one matrix-vector product per output row, written in place (``fori_loop``):
      no workspace, about twice a GEMM's time while ``y`` stays in a core's cache
      (``_ROWS_OPERAND_BYTES``; 1.1 against 0.58 ms for ``128 x 100 x 512``), 2-3.5x beyond
      (10.7 against 3.8 ms for ``128 x 1000 x 512``; blocks: 5.5 ms).
    * ``"blocks"``: a longer ``y``: the sum of the products of blocks of ``c`` steps, each
      packing at most ``_BLOCK_BYTES`` (at least ``_MIN_BLOCK`` rows), beside a second
      ``m x n`` buffer (the running sum); one GEMM (``c == k``) when that buffer and a block
      hold more than half the whole GEMM's workspace.
    """
    gemm = (m + n) * k * itemsize
    if 0 in (m, n, k) or gemm <= _GEMM_WORKSPACE_BYTES:
        return "gemm", int(k)
    if k * n * itemsize <= _ROWS_OPERAND_BYTES:
        return "rows", int(k)
    most = max(_MIN_BLOCK, _BLOCK_BYTES // ((m + n) * itemsize))
    if k <= most or gemm <= 2 * (m * n * itemsize + _BLOCK_BYTES):
        return "gemm", int(k)
    n_blocks = -(-k // most)
    return "blocks", int(-(-k // n_blocks))


@register(RowwiseDot)
def _rowwise_dot(op, node):
    dtype = np.dtype(node.outputs[0].dtype)

    def impl(x, y):
        if x.dtype != dtype or y.dtype != dtype:
            x, y = jnp.asarray(x).astype(dtype), jnp.asarray(y).astype(dtype)
        if is_concrete(x) and is_concrete(y):
            return np.asarray(np.dot(x, y), dtype=dtype)
        (m, k), n = x.shape, y.shape[1]
        how, c = rowwise_plan(m, n, k, dtype.itemsize)
        if how == "gemm":
            return jnp.dot(x, y)
        xt = jnp.transpose(x)  # x is a transposed stack of steps: XLA cancels the two transposes
        if how == "rows":
            def product(i):  # row i of the result: [1, k] x [k, n], a matrix-vector product
                col = lax.dynamic_slice_in_dim(xt, i, 1, 1)
                return lax.dot_general(col, y, (((0,), (0,)), ((), ())))

            def row(i, out):
                return lax.dynamic_update_slice(out, product(i), (i, 0))

            # the rows are written in place into a buffer that starts as the first row
            # broadcast, not zeros: a zero fill has no input, and XLA scheduled it early, where
            # the result's buffer could no longer hold the backward loop's transposed weights
            # (+0.5 MB for the vector LSTM's gradient)
            return lax.fori_loop(1, m, row, jnp.broadcast_to(product(0), (m, n)))

        nb, rest = divmod(k, c)

        def block(i, acc):  # a block of c steps sliced from the stored [k, m] and [k, n]
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
