"""JAX lowering of thx/tensor/math.py: reductions, dot, softmax."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from thx.lowering.registry import is_concrete, register
from thx.tensor.math import (All, Any, Argmax, Argmin, Dot, LogSoftmax, Max, Min, Prod, Softmax, Sum)

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


@register(Softmax)
def _softmax(op, node):
    return lambda x: jax.nn.softmax(x, axis=-1)


@register(LogSoftmax)
def _logsoftmax(op, node):
    return lambda x: jax.nn.log_softmax(x, axis=-1)
